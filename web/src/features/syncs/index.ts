export { default } from "./SyncsPage";
