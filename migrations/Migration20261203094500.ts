import { Migration } from '@mikro-orm/migrations';

/** Erasure requests (issue 13): ids and progress only, never personal data. */
export class Migration20261203094500 extends Migration {
  override name = 'Migration20261203094500';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "erasures" ("id" uuid not null, "status" text not null default 'PENDING', "contact_ids" jsonb not null, "document_ids" jsonb not null default '[]', "reason" varchar(20) not null default 'request', "actor" varchar(255) not null, "attempts" int not null default 0, "requested_at" timestamptz not null, "completed_at" timestamptz null, "error" text null, primary key ("id"));`,
    );
    this.addSql(
      `create index "erasures_pending_index" on "erasures" ("requested_at") where "status" = 'PENDING';`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql('drop table if exists "erasures";');
  }
}
