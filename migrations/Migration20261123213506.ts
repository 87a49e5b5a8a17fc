import { Migration } from '@mikro-orm/migrations';

const words = `
  setweight(to_tsvector('english', translate(left("filename", 1000), '.-/\\@', '     ')), 'A') ||
  setweight(to_tsvector('english', translate(left(search_keywords_text("keywords"), 10000) || ' ' || coalesce(left("contact_name", 1000), ''), '.-/\\@', '     ')), 'B') ||
  setweight(to_tsvector('english', translate(left("text", 300000), '.-/\\@', '     ')), 'C')`;

/**
 * One token per filter value in the search tsvector (`zzt` + hash of the document type, `zzs`,
 * `zzl`, `zzc` likewise, `zzm` + the 30-day period of created_at): a filtered search intersects them
 * inside the GIN index instead of reading every document that has the words. Queries never name
 * them, so they never rank. Drop and add rather than SET EXPRESSION, which needs PostgreSQL 17.
 */
const withFilterTokens = `${words} ||
  to_tsvector('simple', 'zzs' || left(md5("status"), 16)
    || coalesce(' zzt' || left(md5("document_type"), 16), '')
    || coalesce(' zzl' || left(md5("language"), 16), '')
    || coalesce(' zzc' || left(md5("contact_id"::text), 16), '')
    || ' zzm' || floor(extract(epoch from ("created_at" - '1970-01-01 00:00:00+00'::timestamptz)) / 2592000)::bigint::text)`;

export class Migration20261123213506 extends Migration {
  override name = 'Migration20261123213506';

  private replaceTsv(expression: string): void {
    this.addSql('alter table "search_documents" drop column "tsv";');
    this.addSql(
      `alter table "search_documents" add column "tsv" tsvector generated always as (${expression}) stored;`,
    );
    this.addSql('alter table "search_documents" alter column "tsv" set storage external;');
    this.addSql('create index "search_documents_tsv_index" on "search_documents" using gin ("tsv");');
  }

  override up(): void | Promise<void> {
    this.replaceTsv(withFilterTokens);
  }

  override down(): void | Promise<void> {
    this.replaceTsv(words);
  }
}
