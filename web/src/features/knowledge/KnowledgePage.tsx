import { Route, Routes } from "react-router";
import { DocumentList } from "./DocumentList";
import { DocumentDetail } from "./DocumentDetail";
import "./knowledge.css";

/** /knowledge (documents, upload, try a question) and /knowledge/:documentId (its passages). */
export default function KnowledgePage() {
  return (
    <Routes>
      <Route index element={<DocumentList />} />
      <Route path=":documentId" element={<DocumentDetail />} />
    </Routes>
  );
}
