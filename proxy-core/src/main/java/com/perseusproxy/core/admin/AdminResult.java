package com.perseusproxy.core.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A console result in the simple query protocol: RowDescription (names and type OIDs exactly as PgBouncer sends them,
 * since tools look columns up by name and parse by type), DataRows in text format, and CommandComplete.
 */
final class AdminResult {

    static final int TEXT = 25;
    static final int INT4 = 23;
    static final int INT8 = 20;
    static final int NUMERIC = 1700;

    /** A column: its name and type OID. */
    record Column(String name, int type) {
    }

    private final List<Column> columns = new ArrayList<>();
    private final List<Object[]> rows = new ArrayList<>();
    private String tag = "SHOW";

    AdminResult text(String... names) {
        for (String name : names) {
            columns.add(new Column(name, TEXT));
        }
        return this;
    }

    AdminResult int4(String... names) {
        for (String name : names) {
            columns.add(new Column(name, INT4));
        }
        return this;
    }

    AdminResult int8(String... names) {
        for (String name : names) {
            columns.add(new Column(name, INT8));
        }
        return this;
    }

    AdminResult numeric(String... names) {
        for (String name : names) {
            columns.add(new Column(name, NUMERIC));
        }
        return this;
    }

    /** One row; values are written with {@link String#valueOf}, null stays SQL NULL. */
    AdminResult row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("row has " + values.length + " values for " + columns.size()
                    + " columns");
        }
        rows.add(values);
        return this;
    }

    List<Column> columns() {
        return columns;
    }

    List<Object[]> rows() {
        return rows;
    }

    /** A command without rows (RELOAD, PAUSE...): only CommandComplete with this tag. */
    static AdminResult command(String tag) {
        AdminResult result = new AdminResult();
        result.tag = tag;
        return result;
    }

    void writeTo(Channel channel) {
        ByteBufAllocator alloc = channel.alloc();
        if (!columns.isEmpty()) {
            channel.write(rowDescription(alloc));
            for (Object[] row : rows) {
                channel.write(dataRow(alloc, row));
            }
        }
        ByteBuf complete = alloc.buffer();
        complete.writeByte('C').writeInt(0);
        writeCString(complete, tag);
        channel.write(finish(complete));
    }

    private ByteBuf rowDescription(ByteBufAllocator alloc) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte('T').writeInt(0).writeShort(columns.size());
        for (Column column : columns) {
            writeCString(buf, column.name());
            buf.writeInt(0).writeShort(0).writeInt(column.type());
            buf.writeShort(column.type() == TEXT || column.type() == NUMERIC ? -1 : column.type() == INT8 ? 8 : 4);
            buf.writeInt(-1).writeShort(0);
        }
        return finish(buf);
    }

    private static ByteBuf dataRow(ByteBufAllocator alloc, Object[] row) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte('D').writeInt(0).writeShort(row.length);
        for (Object value : row) {
            if (value == null) {
                buf.writeInt(-1);
            } else {
                byte[] bytes = String.valueOf(value).getBytes(StandardCharsets.UTF_8);
                buf.writeInt(bytes.length).writeBytes(bytes);
            }
        }
        return finish(buf);
    }

    private static void writeCString(ByteBuf buf, String value) {
        buf.writeBytes(value.getBytes(StandardCharsets.UTF_8)).writeByte(0);
    }

    private static ByteBuf finish(ByteBuf buf) {
        buf.setInt(1, buf.readableBytes() - 1);
        return buf;
    }
}
