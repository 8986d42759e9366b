export { LiveProvider } from "./LiveProvider";
export { useLive, useLiveEvent } from "./context";
export { TOPIC_KEYS, invalidateFor } from "./invalidation";
export type { LiveEvent, ChangeEvent, LiveState, LiveTopic } from "../lib/live";
