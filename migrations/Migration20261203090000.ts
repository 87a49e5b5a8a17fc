import { Migration } from '@mikro-orm/migrations';

/** What `ContactFilter.search` matches; the query repeats this expression exactly so the index applies. */
const contactSearchText = `("name" || ' ' || "email" || ' ' || coalesce("company", '') || ' ' || "message")`;

/**
 * The staff side: triage columns and notes on contacts, `indexed_at` on documents, and the indexes
 * the inbox pages with. `created_at` drops to milliseconds (a JS Date's precision) so a keyset cursor
 * holds the exact value; (created_at, id) indexes replace the created_at ones. Existing contacts are NEW.
 */
export class Migration20261203090000 extends Migration {
  override name = 'Migration20261203090000';

  override up(): void | Promise<void> {
    this.addSql(`alter table "contacts" alter column "created_at" type timestamptz(3);`);
    this.addSql(`alter table "contacts" add column "status" text not null default 'NEW',
      add column "tags" text[] not null default '{}', add column "updated_at" timestamptz(3) null;`);
    this.addSql(`update "contacts" set "updated_at" = "created_at";`);
    this.addSql(`alter table "contacts" alter column "updated_at" set not null;`);
    this.addSql(
      `alter table "contacts" add constraint "contacts_status_check" check ("status" in ('NEW', 'OPEN', 'REPLIED', 'ARCHIVED', 'SPAM'));`,
    );
    this.addSql(`drop index "contacts_created_at_index";`);
    this.addSql(`create index "contacts_created_at_id_index" on "contacts" ("created_at", "id");`);
    this.addSql(`create index "contacts_tags_index" on "contacts" using gin ("tags");`);
    this.addSql(
      `create index "contacts_search_trgm_index" on "contacts" using gin (${contactSearchText} gin_trgm_ops);`,
    );

    this.addSql(`create table "contact_notes" ("id" uuid not null, "contact_id" uuid not null, "body" text not null,
      "author" varchar(200) not null, "created_at" timestamptz(3) not null, primary key ("id"));`);
    this.addSql(
      `create index "contact_notes_contact_id_index" on "contact_notes" ("contact_id", "created_at");`,
    );
    this.addSql(
      `alter table "contact_notes" add constraint "contact_notes_contact_id_foreign" foreign key ("contact_id") references "contacts" ("id") on delete cascade;`,
    );

    this.addSql(`alter table "documents" alter column "created_at" type timestamptz(3);`);
    this.addSql(`alter table "documents" add column "indexed_at" timestamptz null;`);
    this.addSql(`drop index "documents_created_at_index";`);
    this.addSql(`create index "documents_created_at_id_index" on "documents" ("created_at", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "documents_created_at_id_index";`);
    this.addSql(`create index "documents_created_at_index" on "documents" ("created_at");`);
    this.addSql(`alter table "documents" drop column "indexed_at";`);
    this.addSql(`alter table "documents" alter column "created_at" type timestamptz;`);
    this.addSql(`drop table "contact_notes";`);
    this.addSql(`drop index "contacts_search_trgm_index";`);
    this.addSql(`drop index "contacts_tags_index";`);
    this.addSql(`drop index "contacts_created_at_id_index";`);
    this.addSql(`create index "contacts_created_at_index" on "contacts" ("created_at");`);
    this.addSql(`alter table "contacts" drop constraint "contacts_status_check";`);
    this.addSql(`alter table "contacts" drop column "status", drop column "tags", drop column "updated_at";`);
    this.addSql(`alter table "contacts" alter column "created_at" type timestamptz;`);
  }
}
