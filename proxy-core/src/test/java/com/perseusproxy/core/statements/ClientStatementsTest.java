package com.perseusproxy.core.statements;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClientStatementsTest {

    private static final String TENANT_A = "SET search_path TO \"tenant_a\", pg_temp";
    private static final String TENANT_B = "SET search_path TO \"tenant_b\", pg_temp";

    @Test
    void backendNameIsSharedWithinATenantAndNeverAcrossTenants() {
        byte[] query = body("select * from items where id = $1", 23);
        String a1 = new ClientStatements(TENANT_A).define(query).backendName;
        String a2 = new ClientStatements(TENANT_A).define(query.clone()).backendName;
        String b = new ClientStatements(TENANT_B).define(query).backendName;
        assertEquals(a1, a2, "two clients of one tenant share the backend statement");
        assertNotEquals(a1, b, "two tenants never do");
        assertNotEquals(a1, new ClientStatements(TENANT_A).define(body("select * from items where id = $1", 20))
                .backendName, "parameter types are part of the statement");
        assertTrue(a1.startsWith("perseus_") && a1.length() <= 63, a1);
    }

    @Test
    void namesComeAndGoWithTheirOwnDefinition() {
        ClientStatements statements = new ClientStatements(TENANT_A);
        ClientStatements.Definition first = statements.define(body("select 1", -1));
        statements.parsing("s", first);
        assertSame(first, statements.get("s"));
        assertSame(first, statements.close("s"));
        ClientStatements.Definition second = statements.define(body("select 2", -1));
        statements.parsing("s", second);
        statements.forget("s", first); // a late failure of the first Parse must not drop the second
        assertSame(second, statements.get("s"));
        statements.forget("s", second);
        assertNull(statements.get("s"));
    }

    @Test
    void deallocateAllKeepsNamesWhoseParseIsStillInFlight() {
        ClientStatements statements = new ClientStatements(TENANT_A);
        ClientStatements.Definition settled = statements.define(body("select 1", -1));
        statements.parsing("old", settled);
        statements.settled(settled);
        ClientStatements.Definition pending = statements.define(body("select 2", -1));
        statements.parsing("new", pending); // sent after the DEALLOCATE ALL, answered after it
        statements.clearSettled();
        assertNull(statements.get("old"));
        assertSame(pending, statements.get("new"));
        assertEquals(1, statements.size());
    }

    /** The body of a Parse after its name: query text, parameter count and types (-1 = none declared). */
    private static byte[] body(String sql, int oneParameterType) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        int params = oneParameterType < 0 ? 0 : 1;
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(text.length + 1 + 2 + 4 * params);
        buf.put(text).put((byte) 0).putShort((short) params);
        if (params == 1) {
            buf.putInt(oneParameterType);
        }
        return buf.array();
    }
}
