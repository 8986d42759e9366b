import { useT } from "../../i18n";
import { EmptyState, PageHeader } from "../../ui";

/** Placeholder: the syncs feature lives in this folder (see web/README.md). */
export default function SyncsPage() {
  const t = useT();
  return (
    <>
      <PageHeader title={t("page.syncs")} />
      <EmptyState title={t("page.syncs")} body={t("common.comingSoon")} />
    </>
  );
}
