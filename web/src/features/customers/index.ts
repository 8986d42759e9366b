export { default } from "./CustomersPage";
