import { Migration } from '@mikro-orm/migrations';

/**
 * The PostgreSQL search engine's own tables (src/services/search/postgres.engine.ts).
 * English stemming for every document: the corpus is mostly English, and for other languages the
 * English stemmer is applied alike to documents and queries, so matching still works.
 * `.-/\@` become spaces before parsing so that `invoice-2024.pdf` yields `invoice`, `2024`, `pdf`;
 * the engine splits queries the same way.
 */
export class Migration20261123204208 extends Migration {
  override name = 'Migration20261123204208';

  override up(): void | Promise<void> {
    this.addSql('create extension if not exists pg_trgm;');
    // array_to_string is only STABLE (element output functions); for text[] it is immutable.
    this.addSql(
      `create function search_keywords_text(text[]) returns text language sql immutable parallel safe as $$ select array_to_string($1, ' ') $$;`,
    );
    this.addSql(`create table "search_documents" (
      "id" uuid not null primary key,
      "filename" text not null,
      "text" text not null,
      "keywords" text[] not null default '{}',
      "contact_id" uuid null,
      "contact_name" text null,
      "document_type" text null,
      "status" text not null,
      "language" text null,
      "created_at" timestamptz not null,
      "version" bigint not null,
      "tsv" tsvector generated always as (
        setweight(to_tsvector('english', translate(left("filename", 1000), '.-/\\@', '     ')), 'A') ||
        setweight(to_tsvector('english', translate(left(search_keywords_text("keywords"), 10000) || ' ' || coalesce(left("contact_name", 1000), ''), '.-/\\@', '     ')), 'B') ||
        setweight(to_tsvector('english', translate(left("text", 300000), '.-/\\@', '     ')), 'C')
      ) stored
    ) with (toast_tuple_target = 512);`);
    // Text and tsvector live out of line, uncompressed: heap rows stay small for bitmap scans, and
    // ranking reads a tsvector without decompressing it (pglz rarely shrinks a tsvector anyway).
    this.addSql(
      'alter table "search_documents" alter column "tsv" set storage external, alter column "text" set storage external;',
    );
    this.addSql('create index "search_documents_tsv_index" on "search_documents" using gin ("tsv");');
    this.addSql('create index "search_documents_created_at_index" on "search_documents" ("created_at");');
    this.addSql(
      'create index "search_documents_contact_id_index" on "search_documents" ("contact_id", "created_at");',
    );
    this.addSql(
      'create index "search_documents_document_type_index" on "search_documents" ("document_type", "created_at");',
    );

    this.addSql('create table "search_words" ("word" text not null primary key, "lexeme" text null);');
    this.addSql('create index "search_words_trgm_index" on "search_words" using gin ("word" gin_trgm_ops);');
    this.addSql('create index "search_words_lexeme_index" on "search_words" ("lexeme");');
  }

  override down(): void | Promise<void> {
    this.addSql('drop table if exists "search_words";');
    this.addSql('drop table if exists "search_documents";');
    this.addSql('drop function if exists search_keywords_text(text[]);');
  }
}
