export { default } from "./CatalogPage";
