package com.perseusproxy.core.tenant;

/** The SQL of Perseus's {@code perseus_auth} table, in one place for the tools, the demo and the tests. */
public final class PerseusAuthTable {

    /** The table exactly as Perseus defines it; existing Perseus deployments already have it. */
    public static final String CREATE_IF_NOT_EXISTS = """
            CREATE TABLE IF NOT EXISTS perseus_auth (
                id serial PRIMARY KEY,
                source_db character varying(1024),
                source_schema character varying(64),
                source_user character varying(64),
                source_pass_hashed character varying(1024),
                dest_host character varying(64),
                dest_db character varying(1024),
                dest_pass_enc character varying(1024),
                dest_user character varying(64),
                UNIQUE (source_db, source_schema)
            )""";

    /**
     * Inserts a tenant row, or replaces everything but the id of the row with the same (source_db, source_schema).
     * Parameters: source_db, source_schema, source_user, source_pass_hashed, dest_host, dest_db, dest_pass_enc,
     * dest_user.
     */
    public static final String UPSERT = """
            INSERT INTO perseus_auth (source_db, source_schema, source_user, source_pass_hashed,
                                      dest_host, dest_db, dest_pass_enc, dest_user)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (source_db, source_schema) DO UPDATE SET
                source_user = EXCLUDED.source_user,
                source_pass_hashed = EXCLUDED.source_pass_hashed,
                dest_host = EXCLUDED.dest_host,
                dest_db = EXCLUDED.dest_db,
                dest_pass_enc = EXCLUDED.dest_pass_enc,
                dest_user = EXCLUDED.dest_user""";

    private PerseusAuthTable() {
    }
}
