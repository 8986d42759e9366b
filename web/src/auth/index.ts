export { AuthProvider } from "./AuthProvider";
export { Can } from "./Can";
export { useAuth, useCan, type Me } from "./context";
export { ALL_PERMISSIONS, ROLE_PERMISSIONS, permissionsFor, type Permission, type Role } from "./permissions";
