export { default } from "./KnowledgePage";
