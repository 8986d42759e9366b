export { default } from "./InboxPage";
