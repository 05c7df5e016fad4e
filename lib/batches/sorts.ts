/** The marketplace's orders; each is a keyset over (its column, token_id) served by an index. Free of zod for client code. */
export const SEARCH_SORTS = ["newest", "oldest", "quality", "quantity"] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];
