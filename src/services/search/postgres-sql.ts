import { isUuid } from '../shared/uuid.ts';
import { cleanKeyword, cleanText, KEYWORD_SEPARATOR } from './postgres-query.ts';
import { filterDateMs, type SearchDocument, type SearchFilter } from './search-engine.ts';

/**
 * ts_headline parses all the text it gets (about 50 ms for 100,000 characters): it gets a window
 * of this many characters, starting a little before the first occurrence of a query word's stem.
 */
const HEADLINE_WINDOW = 6000;
const HEADLINE_LEAD = 1500;
const TEXT_HEADLINE = `StartSel=<em>, StopSel=</em>, MaxWords=30, MinWords=15, ShortWord=3, MaxFragments=1`;
const NAME_HEADLINE = `StartSel=<em>, StopSel=</em>, HighlightAll=true`;
/**
 * `<prefix>_hl`: ts_headline over the escaped source split like the index (so `3.14` or `e-mail`
 * highlight as they match); `<prefix>_src`: the escaped source under that headline, to restore the
 * split characters from. Everything but the marks is escaped before ts_headline ever sees it.
 */
const headline = (p: string, source: string, options: string, tsquery: string) => ({
  // OFFSET 0 keeps each step a subquery, so that every expression is computed once.
  from: `cross join lateral (select ${esc(source)} as e offset 0) ${p}0
    cross join lateral (select translate(${p}0.e, '.-/\\@', '     ') as t offset 0) ${p}1
    cross join lateral (select ts_headline('english', ${p}1.t, ${tsquery}::tsquery, '${options}') as hl offset 0) ${p}2
    cross join lateral (select replace(replace(${p}2.hl, '<em>', ''), '</em>', '') as bare offset 0) ${p}3`,
  select: `${p}2.hl as ${p}_hl, substr(${p}0.e, nullif(strpos(${p}1.t, ${p}3.bare), 0), length(${p}3.bare)) as ${p}_src`,
});
/** HTML-escapes in SQL (& < > " '), so that ts_headline only ever adds markup. */
const esc = (sql: string) =>
  `replace(replace(replace(replace(replace(${sql}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')`;

export const UPSERT = `
  insert into search_documents (id, filename, "text", keywords, contact_id, contact_name, document_type, status, language, created_at, version)
  select id, filename, "text", string_to_array(keywords, chr(31)), contact_id, contact_name, document_type, status, language, created_at, version
  from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::bigint[])
    as t(id, filename, "text", keywords, contact_id, contact_name, document_type, status, language, created_at, version)
  on conflict (id) do update set
    filename = excluded.filename, "text" = excluded."text", keywords = excluded.keywords,
    contact_id = excluded.contact_id, contact_name = excluded.contact_name, document_type = excluded.document_type,
    status = excluded.status, language = excluded.language, created_at = excluded.created_at, version = excluded.version
  -- Re-indexing an unchanged document rewrites nothing (and leaves the GIN index alone).
  where (search_documents.filename, search_documents."text", search_documents.keywords, search_documents.contact_id,
         search_documents.contact_name, search_documents.document_type, search_documents.status, search_documents.language,
         search_documents.created_at, search_documents.version)
    is distinct from (excluded.filename, excluded."text", excluded.keywords, excluded.contact_id, excluded.contact_name,
         excluded.document_type, excluded.status, excluded.language, excluded.created_at, excluded.version)`;

// Sorted input: concurrent batches take the same words' locks in the same order.
export const ADD_WORDS = `
  insert into search_words (word, lexeme)
  select w, (ts_lexize('english_stem', w))[1] from unnest($1::text[]) as w
  where not exists (select 1 from search_words s where s.word = w)
  on conflict (word) do nothing`;

/** Of the given words, deletes those no remaining document matches (by their stem, as searches do). */
export const PRUNE_WORDS = `
  delete from search_words w
  where w.word = any($1::text[])
    and not exists (select 1 from search_documents d where d.tsv @@ phraseto_tsquery('english', w.word))`;

/**
 * Each term's tsquery (empty for stop words); a word matching no indexed word nor its stem is
 * replaced by the most similar indexed word (pg_trgm, similarity >= pg_trgm.similarity_threshold,
 * 0.3 by default), preferring the same first letter and a close length.
 */
export const TERMS = `
  select x.i::int as i, coalesce(f.q, phraseto_tsquery('english', x.t)::text) as q, f.word as fix,
    (select max(created_at) from search_documents) as newest
  from unnest($1::text[], $2::boolean[]) with ordinality as x(t, correctable, i)
  left join lateral (
    select w.word, phraseto_tsquery('english', w.word)::text as q
    from search_words w
    where x.correctable
      and ts_lexize('english_stem', x.t) <> '{}'
      and not exists (select 1 from search_words s where s.word = x.t)
      and not exists (select 1 from search_words s where s.lexeme = (ts_lexize('english_stem', x.t))[1])
      and w.word % x.t
    order by similarity(w.word, x.t) + case when left(w.word, 1) = left(x.t, 1) then 0.1 else 0 end
      - 0.02 * abs(length(w.word) - length(x.t)) desc, w.word
    limit 1
  ) f on true
  order by x.i`;

/**
 * Per search transaction. The planner prices `tsv @@ query` on a row as cheap, but it means reading
 * the out-of-line tsvector: a sequential scan testing every row loses to the GIN bitmap by far for
 * all but tiny tables, so it is off. Parallel workers cost more to start than they save here.
 */
export const SEARCH_SETTINGS =
  'begin; set local enable_seqscan = off; set local max_parallel_workers_per_gather = 0; set local statement_timeout = 15000';

export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export interface FilterSql {
  /** Exact conditions over alias `d`. */
  clauses: string[];
  /** tsquery expressions of the filter tokens in the tsvector (see the search migration). */
  facets: string[];
  /** The period tokens of the created_at range, as tsquery text (`zzm650 | zzm651`), if narrow enough. */
  periods: string | null;
}

/**
 * Filter tokens: one word per filter value in each document's tsvector (written by the search
 * migration's generated column), the prefix + 16 hex of the value's md5, or + the 30-day period of
 * created_at. `zz` keeps them apart from real words (the text is indexed in lower case, and no
 * dictionary word is `zzs` + 16 hex digits). The values are stored: changing one needs a migration.
 */
export const FACET_TOKEN = {
  documentType: 'zzt',
  status: 'zzs',
  language: 'zzl',
  contactId: 'zzc',
  period: 'zzm',
} as const;

/** 30-day periods since 1970, as in the migration's period token. */
export const PERIOD_MS = 2_592_000_000;
/** A created_at range spanning more periods than this is left to the exact condition alone. */
const MAX_PERIODS = 36;
/** Periods (of the newest document and before it) searched before the whole table. */
export const RECENT_PERIODS = 3;

/** The filter as SQL, values as parameters; null when nothing can match. */
export function filterSql(filter: SearchFilter, params: Params): FilterSql | null {
  const clauses: string[] = [];
  const facets: string[] = [];
  const token = (prefix: string, value: string) =>
    `to_tsquery('simple', '${prefix}' || left(md5(${value}::text), 16))`;
  for (const [key, column, prefix] of [
    ['documentType', 'document_type', FACET_TOKEN.documentType],
    ['status', 'status', FACET_TOKEN.status],
    ['language', 'language', FACET_TOKEN.language],
  ] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    if (value.includes('\0')) return null; // stored text never holds NUL, and PostgreSQL rejects it
    const p = params.add(value);
    clauses.push(`d.${column} = ${p}`);
    facets.push(token(prefix, p));
  }
  if (filter.contactId !== undefined) {
    // Stored ids are uuids: any other value matches nothing (and must not become a cast error).
    if (!isUuid(filter.contactId)) return null;
    const p = `${params.add(filter.contactId)}::uuid`;
    clauses.push(`d.contact_id = ${p}`);
    facets.push(token(FACET_TOKEN.contactId, p));
  }
  const after = filter.createdAfter ? filterDateMs(filter.createdAfter, 'createdAfter') : null;
  const before = filter.createdBefore ? filterDateMs(filter.createdBefore, 'createdBefore') : null;
  if (after !== null)
    clauses.push(`d.created_at >= ${params.add(new Date(after).toISOString())}::timestamptz`);
  if (before !== null)
    clauses.push(`d.created_at < ${params.add(new Date(before).toISOString())}::timestamptz`);
  let periods: string | null = null;
  if (after !== null) {
    // Documents are created in the past: without an upper bound, up to the period after now.
    const first = Math.floor(after / PERIOD_MS);
    const last = Math.floor(((before ?? Date.now() + PERIOD_MS) - 1) / PERIOD_MS);
    if (last < first) return null;
    if (last - first < MAX_PERIODS) {
      periods = Array.from({ length: last - first + 1 }, (_, i) => `${FACET_TOKEN.period}${first + i}`).join(
        ' | ',
      );
    }
  }
  return { clauses, facets, periods };
}

const and = (clauses: string[]) => clauses.map((c) => ` and ${c}`).join('');
/**
 * The same clauses out of the btree indexes' reach (`(x) is true` is no index condition): with a
 * query, the GIN bitmap must drive the scan, since the planner would rather walk a filter's index
 * and test each row's out-of-line tsvector, unaware how much reading it costs.
 */
const andUnindexed = (clauses: string[]) => clauses.map((c) => ` and (${c}) is true`).join('');

export function upsertParams(docs: SearchDocument[]): unknown[] {
  return [
    docs.map((d) => d.id),
    docs.map((d) => cleanText(d.filename)),
    docs.map((d) => cleanText(d.text)),
    docs.map((d) => d.keywords.map(cleanKeyword).join(KEYWORD_SEPARATOR)),
    docs.map((d) => d.contactId),
    docs.map((d) => (d.contactName === null ? null : cleanText(d.contactName))),
    docs.map((d) => (d.documentType === null ? null : cleanText(d.documentType))),
    docs.map((d) => d.status),
    docs.map((d) => d.language),
    docs.map((d) => d.createdAt.toISOString()),
    docs.map((d) => String(Math.trunc(d.version))),
  ];
}

/** The first lexeme of a tsquery's text form (`'stone' <-> 'town'` gives `stone`). */
const firstLexeme = (tsquery: string) => (/'((?:[^']|'')*)'/.exec(tsquery)?.[1] ?? '').replaceAll("''", "'");

/** `(a) & (b) & !(c)`: tsquery texts produced by PostgreSQL itself, so only joined here. */
const all = (qs: string[], not: string[]) =>
  [...qs.map((q) => `(${q})`), ...not.map((q) => `!(${q})`)].join(' & ');

/** A query's terms as tsquery texts, after typo correction. */
export interface Terms {
  positive: string[];
  negative: string[];
  /** The period tokens of the newest periods holding documents, as tsquery text. */
  recent: string | null;
}

/** A query without words: the newest documents passing the filter (and not excluded). */
export function newestSql(
  filters: FilterSql,
  params: Params,
  negative: string[],
  offset: number,
  limit: number,
  maxHits: number,
): string {
  const any = negative.map((q) => `(${q})`).join(' | ');
  const not = negative.length ? ` and not (d.tsv @@ ${params.add(any)}::tsquery)` : '';
  return `
    with hits as (
      select d.id, d.created_at from search_documents d where true${and(filters.clauses)}${not}
      order by d.created_at desc, d.id desc limit ${maxHits}
    ), page as (
      select id, created_at from hits order by created_at desc, id desc limit ${limit} offset ${offset}
    )
    select (select count(*) from hits)::int as total, p.id::text as id
    from (select 1) one left join page p on true
    order by p.created_at desc, p.id desc`;
}

/**
 * Tier k holds the newest maxHits documents matching the first k terms (and no excluded one);
 * a document counts in its highest tier. Only tiers reaching the requested page are ranked, and
 * in each only the newest rankDepth documents: the rest of a tier follows them, newest first.
 */
export function rankedSql(
  filters: FilterSql,
  params: Params,
  terms: Terms,
  offset: number,
  limit: number,
  { maxHits, scanLimit, rankDepth }: { maxHits: number; scanLimit: number; rankDepth: number },
): string {
  const { positive, negative, recent } = terms;
  const facets = [...filters.facets];
  if (filters.periods) facets.push(`to_tsquery('simple', ${params.add(filters.periods)})`);
  const window = recent ? `to_tsquery('simple', ${params.add(recent)})` : null;
  const tiers = positive
    .map((_, k) => {
      const tsq = [`${params.add(all(positive.slice(0, k + 1), negative))}::tsquery`, ...facets].join(' && ');
      // LIMIT scanLimit stops a heap scan after that many matches (in table order): a common word
      // costs a bounded amount. The recent periods are searched first: when they hold maxHits
      // matches, those are the newest; only otherwise is the whole table searched.
      const scan = (extra: string) => `select d.id, d.created_at, d.tsv from search_documents d
        where d.tsv @@ (${tsq}${extra})${andUnindexed(filters.clauses)} limit ${scanLimit}`;
      const matches = window
        ? `with r as materialized (${scan(` && ${window}`)})
          select * from r where (select count(*) from r) >= ${maxHits}
          union all
          select * from (${scan('')}) a where (select count(*) from r) < ${maxHits}`
        : scan('');
      return `(select id, created_at, tsv, ${k + 1} as tier from (${matches}) m
        order by created_at desc limit ${maxHits})`;
    })
    .reverse()
    .join(' union all ');
  const any = params.add(positive.map((q) => `(${q})`).join(' | '));
  // Stems minus their last letter are, as a rule, prefixes of the words they stem from.
  const keys = [...new Set(positive.map(firstLexeme))].map((k) =>
    params.add(k.length > 3 ? k.slice(0, -1) : k),
  );
  const at = `coalesce(least(${keys.map((k) => `nullif(strpos(lower(d."text"), ${k}), 0)`).join(', ')}), 1)`;
  const text = headline(
    't',
    `substr(d."text", greatest(${at} - ${HEADLINE_LEAD}, 1), ${HEADLINE_WINDOW})`,
    TEXT_HEADLINE,
    any,
  );
  const name = headline('n', 'd.filename', NAME_HEADLINE, any);
  return `
    with tiers as (${tiers}),
    cands as (select distinct on (id) id, tier, created_at, tsv from tiers order by id, tier desc),
    bounds as (
      select (select count(*) from tiers where tier = 1)::int as total,
        coalesce((select tier from cands order by tier desc offset ${offset + Math.max(limit, 1) - 1} limit 1), 1) as cutoff
    ),
    numbered as (
      select c.*, row_number() over (partition by c.tier order by c.created_at desc, c.id desc) as n
      from cands c join bounds b on c.tier >= b.cutoff
    ),
    ranked as (
      select id, tier, created_at, case when n <= ${rankDepth} then ts_rank_cd(tsv, ${any}::tsquery, 32) end as score
      from numbered
      order by tier desc, score desc nulls last, created_at desc, id
      limit ${limit} offset ${offset}
    )
    select b.total, r.id::text as id, r.score, ${text.select}, ${name.select}
    from bounds b left join (ranked r join search_documents d on d.id = r.id ${text.from} ${name.from}) on true
    order by r.tier desc, r.score desc nulls last, r.created_at desc, r.id`;
}
