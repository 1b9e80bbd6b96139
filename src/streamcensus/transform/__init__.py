"""Transform: the SQL models (`models/*.sql`), their runner, checks and serving tables."""
