export { default } from "./DashboardsPage";
