import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the knowledge feature lives in this folder (see web/README.md). */
export default function KnowledgePage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.knowledge")} />
      <EmptyState title={t("page.knowledge")} body={t("common.comingSoon")} />
    </>
  );
}
