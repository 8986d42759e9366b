export { default } from "./AuditPage";
