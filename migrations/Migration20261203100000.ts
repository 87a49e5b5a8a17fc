import { Migration } from '@mikro-orm/migrations';

/** Duplicates are found by checksum: `Document.duplicates`, the filter and the owner's email look them up. */
export class Migration20261203100000 extends Migration {
  override name = 'Migration20261203100000';

  override up(): void | Promise<void> {
    this.addSql(`create index "documents_sha256_index" on "documents" ("sha256");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "documents_sha256_index";`);
  }
}
