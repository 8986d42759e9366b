export { default } from "./StaffPage";
