import { Migration } from '@mikro-orm/migrations';

export class Migration20261123203506 extends Migration {
  override name = 'Migration20261123203506';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "contacts" ("id" uuid not null, "name" varchar(100) not null, "email" varchar(254) not null, "company" varchar(100) null, "service" varchar(100) null, "message" text not null, "source" varchar(100) not null, "created_at" timestamptz not null, "idempotency_key" varchar(255) null, "input_hash" varchar(64) null, "notification_status" text not null default 'PENDING', "notification_attempts" int not null default 0, "notification_last_error" text null, "notification_sent_at" timestamptz null, "notification_message_id" varchar(255) null, primary key ("id"));`,
    );
    this.addSql(`create index "contacts_created_at_index" on "contacts" ("created_at");`);
    this.addSql(
      `alter table "contacts" add constraint "contacts_idempotency_key_unique" unique ("idempotency_key");`,
    );
    this.addSql(
      `alter table "contacts" add constraint "contacts_notification_status_check" check ("notification_status" in ('PENDING', 'SENT', 'FAILED', 'SKIPPED'));`,
    );

    this.addSql(
      `create table "documents" ("id" uuid not null, "contact_id" uuid null, "filename" varchar(255) not null, "content_type" varchar(127) not null, "document_type" varchar(100) null, "size" bigint not null, "sha256" varchar(64) not null, "storage_key" varchar(1024) not null, "status" text not null default 'PENDING', "error" text null, "text" text null, "insights" jsonb null, "attempts" int not null default 0, "created_at" timestamptz not null, "processed_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "documents_contact_id_index" on "documents" ("contact_id");`);
    this.addSql(`create index "documents_status_index" on "documents" ("status");`);
    this.addSql(`create index "documents_created_at_index" on "documents" ("created_at");`);
    this.addSql(
      `alter table "documents" add constraint "documents_status_check" check ("status" in ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'));`,
    );

    this.addSql(
      `alter table "documents" add constraint "documents_contact_id_foreign" foreign key ("contact_id") references "contacts" ("id") on delete set null;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql('drop table if exists "documents";');
    this.addSql('drop table if exists "contacts";');
  }
}
