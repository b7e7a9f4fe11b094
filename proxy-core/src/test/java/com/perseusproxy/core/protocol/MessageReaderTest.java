package com.perseusproxy.core.protocol;

import static com.perseusproxy.core.protocol.Wire.bytes;
import static com.perseusproxy.core.protocol.Wire.tagged;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MessageReaderTest {

    private final TrackingAllocator alloc = new TrackingAllocator();

    @AfterEach
    void everyBufferReleased() {
        alloc.assertAllReleased();
    }

    @Test
    void errorFieldsByTheirOneLetterCode() {
        byte[] error = tagged('E', bytes()
                .byte1('S').cstring("ERROR")
                .byte1('V').cstring("ERROR")
                .byte1('C').cstring("42P01")
                .byte1('M').cstring("relation \"x\" does not exist")
                .byte1('P').cstring("15")
                .byte1(0));
        assertEquals(Map.of('S', "ERROR", 'V', "ERROR", 'C', "42P01", 'M', "relation \"x\" does not exist",
                'P', "15"), read(error, MessageReader::errorFields));
    }

    @Test
    void errorFieldsOfAnEmptyBodyAreEmpty() {
        assertEquals(Map.of(), read(tagged('N', bytes().byte1(0)), MessageReader::errorFields));
        assertEquals(Map.of(), read(tagged('N', new byte[0]), MessageReader::errorFields));
    }

    @Test
    void errorFieldsStopAtTheTerminator() {
        byte[] error = tagged('E', bytes().byte1('C').cstring("57014").byte1(0).byte1('M').cstring("ignored"));
        assertEquals(Map.of('C', "57014"), read(error, MessageReader::errorFields));
    }

    @Test
    void errorFieldWithoutTerminatorIsAProtocolError() {
        byte[] error = tagged('E', bytes().byte1('C').raw("57014"));
        assertThrows(PgProtocolException.class, () -> read(error, MessageReader::errorFields));
    }

    @Test
    void errorFieldsDoNotMoveTheFrame() {
        PgMessage message = new PgMessage(alloc.copyOf(tagged('E', bytes().byte1('C').cstring("57014").byte1(0))));
        try {
            int before = message.frame().readerIndex();
            MessageReader.errorFields(message);
            MessageReader.errorFields(message);
            assertEquals(before, message.frame().readerIndex(), "the frame stays ready to forward");
        } finally {
            message.release();
        }
    }

    @Test
    void parameterStatusNameAndValue() {
        byte[] status = tagged('S', bytes().cstring("DateStyle").cstring("ISO, MDY"));
        assertArrayEquals(new String[] {"DateStyle", "ISO, MDY"}, read(status, MessageReader::parameterStatus));
    }

    @Test
    void parameterStatusWithAnEmptyValue() {
        byte[] status = tagged('S', bytes().cstring("application_name").cstring(""));
        assertArrayEquals(new String[] {"application_name", ""}, read(status, MessageReader::parameterStatus));
    }

    @Test
    void parameterStatusWithoutAValueIsAProtocolError() {
        byte[] status = tagged('S', bytes().cstring("application_name"));
        assertThrows(PgProtocolException.class, () -> read(status, MessageReader::parameterStatus));
    }

    @Test
    void commandTags() {
        assertEquals("SELECT 1", read(tagged('C', bytes().cstring("SELECT 1")), MessageReader::commandTag));
        assertEquals("SET", read(tagged('C', bytes().cstring("SET")), MessageReader::commandTag));
        assertEquals("INSERT 0 3", read(tagged('C', bytes().cstring("INSERT 0 3")), MessageReader::commandTag));
    }

    @Test
    void password() {
        assertEquals("pässword", read(tagged('p', bytes().cstring("pässword")), MessageReader::password));
    }

    @Test
    void readCStringMovesPastTheTerminator() {
        ByteBuf buf = alloc.copyOf(bytes().cstring("one").cstring("").cstring("three").toArray());
        try {
            assertEquals("one", MessageReader.readCString(buf));
            assertEquals("", MessageReader.readCString(buf));
            assertEquals("three", MessageReader.readCString(buf));
            assertEquals(0, buf.readableBytes());
            assertThrows(PgProtocolException.class, () -> MessageReader.readCString(buf));
        } finally {
            buf.release();
        }
    }

    private <T> T read(byte[] frame, Function<PgMessage, T> reader) {
        PgMessage message = new PgMessage(alloc.copyOf(frame));
        try {
            return reader.apply(message);
        } finally {
            message.release();
        }
    }
}
