// For the MikroORM CLI (migration:create); the app builds its options in services/db/orm.ts.
import { loadConfig } from './config.ts';
import { ormOptions } from './services/db/orm.ts';

const config = loadConfig();
if (!config.database) throw new Error('Set DATABASE_URL to run the MikroORM CLI');
export default ormOptions(config.database.url);
