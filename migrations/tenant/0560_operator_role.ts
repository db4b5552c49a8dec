// The platform operator console (issue 12): `operator` joins the roles a user may hold. It means
// something only in the tenant named by FACET_OPERATOR_TENANT (src/console/operator-routes.ts);
// elsewhere it grants nothing.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admin_roles').dropConstraint('admin_roles_role_check').execute();
  await db.schema.alterTable('admin_roles').addCheckConstraint('admin_roles_role_check', sql`role in ('admin', 'helpdesk', 'auditor', 'operator')`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('admin_roles').where('role', '=', 'operator').execute();
  await db.schema.alterTable('admin_roles').dropConstraint('admin_roles_role_check').execute();
  await db.schema.alterTable('admin_roles').addCheckConstraint('admin_roles_role_check', sql`role in ('admin', 'helpdesk', 'auditor')`).execute();
}
