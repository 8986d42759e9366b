import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useT } from "../../i18n";
import { Badge, Button, ErrorState } from "../../ui";
import { searchKnowledge } from "./api";

/** Which passages a reply would be grounded on (POST /api/v1/knowledge/search: same retriever and thresholds). */
export function TryQuestion() {
  const t = useT();
  const [question, setQuestion] = useState("");
  const search = useMutation({ mutationFn: (q: string) => searchKnowledge(q, 5) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = question.trim();
    if (q) search.mutate(q);
  };
  const passages = search.data?.passages;
  return (
    <section className="kb-card" data-testid="try-question">
      <h2 className="kb-card__title">{t("knowledge.try.title")}</h2>
      <p className="kb-muted kb-small">{t("knowledge.try.intro")}</p>
      <form className="kb-try" onSubmit={submit}>
        <label className="field kb-try__field">
          <span className="field__label">{t("knowledge.try.question")}</span>
          <input className="field__input" value={question} maxLength={1000} onChange={(e) => setQuestion(e.target.value)} />
        </label>
        <Button type="submit" busy={search.isPending} disabled={!question.trim()}>
          {t("knowledge.try.ask")}
        </Button>
      </form>
      {search.isError && <ErrorState error={search.error} />}
      {passages && passages.length === 0 && <p>{t("knowledge.try.none")}</p>}
      {passages && passages.length > 0 && !passages.some((p) => p.relevant) && (
        <p className="kb-failure">{t("knowledge.try.noneRelevant")}</p>
      )}
      {passages && passages.length > 0 && (
        <ol className="kb-passages">
          {passages.map((p) => (
            <li key={p.chunk_id} className={p.relevant ? "kb-passage kb-passage--relevant" : "kb-passage"}>
              <div className="kb-passage__head">
                {p.relevant ? (
                  <Badge tone="success">{t("knowledge.try.relevant")}</Badge>
                ) : (
                  <Badge>{t("knowledge.try.weak")}</Badge>
                )}
                <span className="kb-strong">{p.title}</span>
                {p.heading_path.length > 0 && <span className="kb-muted kb-small">{p.heading_path.join(" › ")}</span>}
              </div>
              <p className="kb-passage__text">{p.text}</p>
              <p className="kb-muted kb-small">
                {t("knowledge.try.scores", {
                  score: p.score.toFixed(3),
                  vector: p.vector_score.toFixed(2),
                  keyword: p.keyword_score.toFixed(2),
                })}
              </p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
