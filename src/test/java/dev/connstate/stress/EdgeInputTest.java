package dev.connstate.stress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLSocket;

import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.Tls;
import dev.connstate.TlsInfo;
import dev.connstate.TrackedServer;
import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.config.ConnStateModule;
import dev.connstate.jetty.ConnStateStatusHandler;
import dev.connstate.config.ModuleSettings;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.sink.Json;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.ajax.JSON;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input at the edges: every module property checked at start with one clear line; client
 * controlled strings (SNI, PROXY protocol addresses and TLVs) reach the JSON and log sinks as
 * one valid JSON object, one line; the status table refuses clients by the address the
 * connection carries (the PROXY protocol's), over real connections.
 */
public class EdgeInputTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    /** Strings no sink may let through raw. */
    private static final String HOSTILE = "a\"b\\c\n\r\t\u0000\u001b[31m\u007f\u2028\u2029\ud800x\uDC00\uFFFD'<>{}";

    /** A Unix socket path with what a path may hold in any locale (ASCII): controls, quotes, backslashes. */
    private static final String UNIX_PATH = "/tmp/a\"b\\c\n\r\t\u001b[31m\u007f";

    @TempDir
    Path dir;

    // ---- the module's properties ----

    private ConnStateModule module(Consumer<ConnStateModule> settings)
    {
        ConnStateModule module = new ConnStateModule(new Server());
        module.setBaseDirectory(dir.toString());
        settings.accept(module);
        return module;
    }

    /**
     * Starting fails with one line, {@code property=value: problem}, that names the property and
     * the value as given (control characters escaped), and leaves nothing behind: no file, no
     * queue, no started tracker.
     *
     * @return the problem: what the line says after the property and the value
     */
    private String refused(String property, String value, Consumer<ConnStateModule> settings) throws Exception
    {
        ConnStateModule module = module(settings);
        ConnStateConfigurationException x = assertThrows(ConnStateConfigurationException.class, module::start);
        String message = x.getMessage();
        assertEquals(property, x.getProperty(), message);
        assertEquals(value, x.getValue(), message);
        String named = property + "=" + escaped(value) + ": ";
        assertTrue(message.startsWith(named), () -> "'" + message + "' does not start with '" + named + "'");
        for (char c : message.toCharArray())
            assertFalse(c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029', "a control character in the one-line error: " + message);
        assertFalse(Files.exists(dir.resolve("logs/connstate.jsonl")), "a file was left behind by: " + message);
        // Nothing is added to the tracker, nothing started.
        assertEquals(List.of(), module.getTracker().getQueuedListeners());
        assertFalse(module.getTracker().isStarted());
        return message.substring(named.length());
    }

    /** The value as a one-line error shows it: control characters as {@code \\uXXXX}. */
    private static String escaped(String value)
    {
        StringBuilder text = new StringBuilder();
        for (char c : value.toCharArray())
        {
            if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029')
                text.append(String.format("\\u%04x", (int)c));
            else
                text.append(c);
        }
        return text.toString();
    }

    private static final String NOTHING_REPORTED = "no sink and no listener (jetty.connstate.listeners), nothing would be reported; " +
        "to count only, enable the jmx or connstate-prometheus module or set jetty.connstate.status.path or jetty.connstate.otel=true (known sinks: log, jsonl, connlog, memory)";
    private static final String NOT_FOUND = " not found on the server class path (put its jar in $JETTY_BASE/lib/connstate/)";

    @Test
    public void countingOnlyNeedsJmxOrTheConnectionTable() throws Exception
    {
        assertEquals(NOTHING_REPORTED, refused(ModuleSettings.SINKS, "", m -> m.setSinks("")));

        // With the connection table, or with JMX, blank sinks count only: the tracker runs without listeners.
        ConnStateModule withTable = module(m ->
        {
            m.setSinks("");
            m.setStatusPath("/connstate");
        });
        Server jmxServer = new Server();
        jmxServer.addBean(new org.eclipse.jetty.jmx.MBeanContainer(java.lang.management.ManagementFactory.getPlatformMBeanServer()));
        ConnStateModule withJmx = new ConnStateModule(jmxServer);
        withJmx.setSinks(" ");
        for (ConnStateModule counting : List.of(withTable, withJmx))
        {
            counting.start();
            try
            {
                assertTrue(counting.getTracker().isStarted());
                assertEquals(List.of(), counting.getTracker().getQueuedListeners());
            }
            finally
            {
                counting.stop();
            }
        }
    }

    @Test
    public void everyPropertyIsCheckedWithOneLine() throws Exception
    {
        // jetty.connstate.sinks
        assertEquals("unknown sink 'foo' (known: log, jsonl, connlog, memory)", refused(ModuleSettings.SINKS, "log,foo", m -> m.setSinks("log,foo")));
        assertEquals("'jsonl' is listed twice", refused(ModuleSettings.SINKS, "jsonl, jsonl", m -> m.setSinks("jsonl, jsonl")));
        assertEquals(NOTHING_REPORTED, refused(ModuleSettings.SINKS, " , ", m -> m.setSinks(" , ")));
        // null is blank: none.
        assertEquals(NOTHING_REPORTED, refused(ModuleSettings.SINKS, "", m -> m.setSinks(null)));
        assertEquals("unknown sink 'LOG' (known: log, jsonl, connlog, memory)", refused(ModuleSettings.SINKS, "LOG", m -> m.setSinks("LOG")));
        // A value with a line break (from XML or code) still makes one line.
        assertEquals("unknown sink 'log\\u000afoo' (known: log, jsonl, connlog, memory)", refused(ModuleSettings.SINKS, "log\nfoo", m -> m.setSinks("log\nfoo")));

        // jetty.connstate.log.logger
        assertEquals("the logger name must not be empty", refused(ModuleSettings.LOG_LOGGER, " ", m -> m.setLogLogger(" ")));
        assertEquals("the logger name must not be empty", refused(ModuleSettings.LOG_LOGGER, "", m -> m.setLogLogger("")));
        // null unsets a sink's property: back to its default.
        ConnStateModule unset = module(m ->
        {
            m.setLogLogger(null);
            m.setLogFormat(null);
        });
        assertEquals(LogSink.DEFAULT_LOGGER, unset.getLogLogger());
        assertEquals(LogSink.DEFAULT_FORMAT, unset.getLogFormat());

        // jetty.connstate.log.format (the problem is LogSink's own text; it names the bad placeholder)
        String unknown = refused(ModuleSettings.LOG_FORMAT, "{remote} {nope}", m -> m.setLogFormat("{remote} {nope}"));
        assertTrue(unknown.startsWith("Unknown placeholder {nope} in line format '{remote} {nope}'"), unknown);
        String unclosed = refused(ModuleSettings.LOG_FORMAT, "{remote", m -> m.setLogFormat("{remote"));
        assertTrue(unclosed.startsWith("Unclosed placeholder at position 0 of line format '{remote'"), unclosed);
        String empty = refused(ModuleSettings.LOG_FORMAT, "", m -> m.setLogFormat(""));
        assertTrue(empty.contains("must not be empty"), empty);
        // The format is checked even when the jsonl file comes after it: no file is made.
        String bad = refused(ModuleSettings.LOG_FORMAT, "{bad}", m ->
        {
            m.setSinks("jsonl,log");
            m.setLogFormat("{bad}");
        });
        assertTrue(bad.startsWith("Unknown placeholder {bad} in line format '{bad}'"), bad);

        // jetty.connstate.jsonl.file
        assertEquals("a file name is required (or - for standard output)", refused(ModuleSettings.JSONL_FILE, " ", m ->
        {
            m.setSinks("jsonl");
            m.setJsonlFile(" ");
        }));
        String directory = refused(ModuleSettings.JSONL_FILE, dir.toString(), m ->
        {
            m.setSinks("jsonl");
            m.setJsonlFile(dir.toString());
        });
        assertTrue(directory.startsWith("cannot append to " + dir + ": ") && directory.endsWith("is a directory"), directory);
        String invalid = refused(ModuleSettings.JSONL_FILE, "logs/a\u0000b.jsonl", m ->
        {
            m.setSinks("jsonl");
            m.setJsonlFile("logs/a\u0000b.jsonl");
        });
        assertTrue(invalid.startsWith("not a valid path: "), invalid);

        // jetty.connstate.listeners
        assertEquals("class 'com.example.Missing'" + NOT_FOUND, refused(ModuleSettings.LISTENERS, "com.example.Missing", m -> m.setListeners("com.example.Missing")));
        String twice = Listener.class.getName() + " , " + Listener.class.getName();
        assertEquals("'" + Listener.class.getName() + "' is listed twice", refused(ModuleSettings.LISTENERS, twice, m -> m.setListeners(twice)));
        assertEquals("class 'java.lang.String' does not implement dev.connstate.ConnStateListener",
            refused(ModuleSettings.LISTENERS, "java.lang.String", m -> m.setListeners("java.lang.String")));
        assertEquals("class '" + Abstract.class.getName() + "' is abstract",
            refused(ModuleSettings.LISTENERS, Abstract.class.getName(), m -> m.setListeners(Abstract.class.getName())));
        assertEquals("class 'dev.connstate.ConnStateListener' is abstract",
            refused(ModuleSettings.LISTENERS, "dev.connstate.ConnStateListener", m -> m.setListeners(dev.connstate.ConnStateListener.class.getName())));
        assertEquals("the constructor of '" + Throwing.class.getName() + "' threw IllegalStateException: no\\u000away",
            refused(ModuleSettings.LISTENERS, Throwing.class.getName(), m -> m.setListeners(Throwing.class.getName())));
        assertEquals("class '" + PrivateConstructor.class.getName() + "' has no public no-argument constructor",
            refused(ModuleSettings.LISTENERS, PrivateConstructor.class.getName(), m -> m.setListeners(PrivateConstructor.class.getName())));
        assertEquals("class 'not a class'" + NOT_FOUND, refused(ModuleSettings.LISTENERS, "not a class", m -> m.setListeners("not a class")));
        // A listener that cannot be made closes the sinks already made (the jsonl file comes last: none).
        assertEquals("the constructor of '" + Throwing.class.getName() + "' threw IllegalStateException: no\\u000away",
            refused(ModuleSettings.LISTENERS, Throwing.class.getName(), m ->
            {
                m.setSinks("log,jsonl");
                m.setListeners(Throwing.class.getName());
            }));

        // jetty.connstate.queue.capacity
        assertEquals("must be between 1 and 1073741824", refused(ModuleSettings.QUEUE_CAPACITY, "0", m -> m.setQueueCapacity(0)));
        assertEquals("must be between 1 and 1073741824", refused(ModuleSettings.QUEUE_CAPACITY, "-5", m -> m.setQueueCapacity(-5)));
        assertEquals("must be between 1 and 1073741824", refused(ModuleSettings.QUEUE_CAPACITY, "1073741825", m -> m.setQueueCapacity((1 << 30) + 1)));

        // jetty.connstate.status.path and .allow: checked by the module's own start too.
        assertEquals("must start with '/', e.g. /connstate", refused(ModuleSettings.STATUS_PATH, "connstate", m -> m.setStatusPath(" connstate ")));
        assertEquals("Not an IP address, CIDR range or address range: 'example.com' (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)",
            refused(ModuleSettings.STATUS_ALLOW, "10.0.0.1,example.com", m ->
            {
                m.setStatusPath("/connstate");
                m.setStatusAllow("10.0.0.1,example.com");
            }));

        // Blank entries are skipped, names are trimmed, and a good setting passes.
        ConnStateModule good = module(m ->
        {
            m.setSinks(" log ,, ");
            m.setListeners(" , " + Listener.class.getName() + " ,");
        });
        try
        {
            good.start();
            assertEquals(List.of("log-1", "Listener-2"), good.getTracker().getQueuedListeners().stream().map(QueuedListener::getName).toList());
        }
        finally
        {
            good.stop();
        }
    }

    public static class Listener implements dev.connstate.ConnStateListener
    {
        @Override
        public void onStateChange(dev.connstate.ConnInfo conn, ConnState state)
        {
        }
    }

    public abstract static class Abstract implements dev.connstate.ConnStateListener
    {
    }

    public static class Throwing extends Listener
    {
        public Throwing()
        {
            throw new IllegalStateException("no\nway");
        }
    }

    public static class PrivateConstructor extends Listener
    {
        private PrivateConstructor()
        {
        }
    }

    // ---- hostile strings through the sinks ----

    /** One JSON object, one line, with every string as it was. */
    private static Map<String, Object> parseRecord(String line)
    {
        return JsonLinesCheck.object(line, "record");
    }

    private static void assertOneSafeLogLine(String line)
    {
        for (char c : line.toCharArray())
            assertFalse(c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029', () -> "unsafe character in log line: " + line);
    }

    @Test
    public void jsonAndLogLinesSurviveHostileStrings()
    {
        ConnStateEvent event = new ConnStateEvent(Instant.now(), 7, InetSocketAddress.createUnresolved(HOSTILE, 1234),
            UnixDomainSocketAddress.of(UNIX_PATH), HOSTILE, true, ConnState.CLOSED, ConnState.IDLE, 0, 1,
            System.currentTimeMillis(), 0, -1, null, false, new TlsInfo(HOSTILE, HOSTILE, HOSTILE));
        String line = Json.record(event);
        Map<String, Object> record = parseRecord(line);
        assertEquals(HOSTILE + ":1234", record.get("remote"));
        assertEquals(UNIX_PATH, record.get("local"));
        assertEquals(HOSTILE, record.get("protocol"));
        @SuppressWarnings("unchecked")
        Map<String, Object> tls = (Map<String, Object>)record.get("tls");
        assertEquals(HOSTILE, tls.get("sni"));
        // Every escape is JSON's own: plain ASCII where JSON needs it.
        for (char c : line.toCharArray())
            assertFalse(c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c), "raw character " + (int)c + " in " + line);
        String log = new LogSink("connstate.edge", "{remote} {local} {protocol} {sni} {cipher} {tls} {state}").line(event);
        assertOneSafeLogLine(log);
        assertTrue(log.contains("a\"b\\c\\u000a\\u000d"), log);
    }

    // ---- a server whose sinks the tests read ----

    /** A tracked server with a jsonl file and a collector of log lines, both queued. */
    private final class SinkServer implements AutoCloseable
    {
        final TrackedServer s = new TrackedServer();
        final Path jsonl = dir.resolve("edge-" + System.nanoTime() + ".jsonl");
        final List<String> logLines = new CopyOnWriteArrayList<>();
        final LogSink logSink = new LogSink("connstate.edge", "Client: {remote} - new state: {state} (id {id}) local={local} sni={sni} reason={reason}");
        final QueuedListener jsonlQueue;

        SinkServer()
        {
            jsonlQueue = s.tracker.addListener("jsonl", new JsonLinesSink(jsonl), 8192);
            s.tracker.addListener("log", (conn, state) -> logLines.add(logSink.line(conn)), 8192);
        }

        /** Stops (checking the tracker's invariants), then checks every jsonl line and every log line. */
        @Override
        public void close() throws Exception
        {
            s.close();
            Map<Long, List<String>> byId = JsonLinesCheck.read(jsonl);
            assertEquals(List.of(), JsonLinesCheck.incomplete(byId));
            assertEquals(s.recorder.connectionCount(), byId.size());
            for (String line : logLines)
                assertOneSafeLogLine(line);
            assertEquals(0, jsonlQueue.getDropped() + jsonlQueue.getErrors());
        }

        /** The jsonl records of one connection. */
        List<Map<String, Object>> records(long id) throws IOException
        {
            List<Map<String, Object>> records = new ArrayList<>();
            for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8))
            {
                Map<String, Object> record = parseRecord(line);
                if (((Number)record.get("id")).longValue() == id)
                    records.add(record);
            }
            return records;
        }
    }

    // ---- SNI ----

    /** An SNI host_name of any bytes: the JDK's SNIHostName only takes LDH names, the wire takes anything. */
    private static final class RawHostName extends SNIServerName
    {
        RawHostName(byte[] encoded)
        {
            super(0, encoded);
        }
    }

    @Test
    public void sniAsSentReachesTheSinksAsOneLine() throws Exception
    {
        // What a JDK client can send: LDH names (IDN as punycode), up to 253 characters.
        String longName = ("a".repeat(63) + ".").repeat(3) + "b".repeat(61);
        List<String> accepted = List.of("localhost", new SNIHostName("café.example").getAsciiName(), longName, "under-score.example");
        // What the JDK server refuses in the handshake (illegal_parameter): quotes, controls, non-UTF-8, spaces.
        List<byte[]> refused = List.of("a\"b\\c".getBytes(StandardCharsets.ISO_8859_1), new byte[]{'a', '\n', 'b'}, new byte[]{(byte)0xff, (byte)0xfe, 'x'},
            "a b".getBytes(StandardCharsets.US_ASCII), new byte[]{'x', 0x1b, '[', '3', '1', 'm'});
        try (SinkServer server = new SinkServer())
        {
            server.s.addTlsConnector();
            server.s.start();
            int port = server.s.port();
            for (String name : accepted)
            {
                try (RawClient c = server.s.client(Tls.socket(port, new SNIHostName(name))))
                {
                    c.send(GET);
                    assertEquals("hello", c.read().text());
                    c.close();
                    c.assertSequence("new", "active", "idle", "closed");
                    assertEquals(name, c.events().get(1).tls().sniHost());
                }
            }
            for (byte[] name : refused)
            {
                SSLSocket socket = Tls.socket(port, new RawHostName(name));
                try (RawClient c = server.s.client(socket))
                {
                    assertThrows(IOException.class, socket::startHandshake);
                    c.close();
                    // A failed handshake: no HTTP, no TLS details.
                    c.assertSequence("new", "closed");
                    assertTrue(c.events().stream().allMatch(e -> e.tls() == null));
                }
            }
            server.s.recorder.awaitAllEnded(accepted.size() + refused.size());
            server.s.server.stop();
            // In the file, as sent.
            for (long id : server.s.recorder.ids())
            {
                for (Map<String, Object> record : server.records(id))
                {
                    if (record.get("tls") instanceof Map<?, ?> tls)
                        assertTrue(accepted.contains((String)tls.get("sni")), record.toString());
                }
            }
        }
    }

    // ---- the PROXY protocol ----

    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /** A PROXY v2 header: command 0x20 (LOCAL) or 0x21 (PROXY), family/transport byte, address block, TLVs. */
    static byte[] v2(int versionCommand, int family, byte[] addresses, byte[] tlvs)
    {
        ByteBuffer header = ByteBuffer.allocate(16 + addresses.length + tlvs.length);
        header.put(V2_SIGNATURE).put((byte)versionCommand).put((byte)family).putShort((short)(addresses.length + tlvs.length)).put(addresses).put(tlvs);
        return header.array();
    }

    static byte[] inet4(int a, int b, int c, int d, int srcPort) throws IOException
    {
        ByteBuffer block = ByteBuffer.allocate(12);
        block.put(new byte[]{(byte)a, (byte)b, (byte)c, (byte)d}).put(new byte[]{(byte)192, 0, 2, 1}).putShort((short)srcPort).putShort((short)443);
        return block.array();
    }

    static byte[] inet6(byte[] src, int srcPort)
    {
        ByteBuffer block = ByteBuffer.allocate(36);
        block.put(src).put(new byte[16]).putShort((short)srcPort).putShort((short)443);
        return block.array();
    }

    static byte[] unix(byte[] srcPath)
    {
        ByteBuffer block = ByteBuffer.allocate(216);
        block.put(srcPath).position(108).put("/run/dst.sock".getBytes(StandardCharsets.US_ASCII));
        return block.array();
    }

    static byte[] tlv(int type, byte[] value)
    {
        ByteBuffer tlv = ByteBuffer.allocate(3 + value.length);
        tlv.put((byte)type).putShort((short)value.length).put(value);
        return tlv.array();
    }

    static byte[] concat(byte[]... parts)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts)
            out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] ascii(String s)
    {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** One PROXY header and what the server must make of it: the client address written by the sinks, or a refusal. */
    record ProxyCase(String name, byte[] header, String remote)
    {
        boolean refused()
        {
            return remote == null;
        }
    }

    static List<ProxyCase> proxyCases() throws IOException
    {
        byte[] db8 = new byte[16];
        db8[0] = 0x20;
        db8[1] = 0x01;
        db8[2] = 0x0d;
        db8[3] = (byte)0xb8;
        db8[15] = 7;
        byte[] oddAuthority = {'h', '\n', '"', '\\', 0, (byte)0xff, 0x1b};
        byte[] ssl = concat(new byte[]{0x01, 0, 0, 0, 0}, tlv(0x21, ascii("TLSv1.3")), tlv(0x22, oddAuthority));
        byte[] unixPath = concat(ascii("/tmp/a\nb\"c\\d"), new byte[]{(byte)0xff, 0x1b, 0});
        return List.of(
            new ProxyCase("v1 TCP4", ascii("PROXY TCP4 192.0.2.7 192.0.2.1 1234 443\r\n"), "192.0.2.7:1234"),
            // Java writes IPv6 uncompressed (Go would write [2001:db8::7]:1234).
            new ProxyCase("v1 TCP6", ascii("PROXY TCP6 2001:db8::7 2001:db8::1 1234 443\r\n"), "[2001:db8::7]:1234"),
            new ProxyCase("v1 UNKNOWN", ascii("PROXY UNKNOWN\r\n"), "socket"),
            // Jetty takes any printable ASCII as the address and resolves it as a host name: unresolvable, it stays text.
            new ProxyCase("v1 odd host", ascii("PROXY TCP4 a\"b\\c\u007f 192.0.2.1 1234 443\r\n"), "a\"b\\c\u007f:1234"),
            new ProxyCase("v1 non-ASCII", ascii("PROXY TCP4 192.0.2.\u00ff 192.0.2.1 1234 443\r\n"), null),
            new ProxyCase("v1 control", ascii("PROXY TCP4 192.0.2.7\u001b 192.0.2.1 1234 443\r\n"), null),
            new ProxyCase("v1 port out of range", ascii("PROXY TCP4 192.0.2.7 192.0.2.1 99999 443\r\n"), null),
            new ProxyCase("v1 port not a number", ascii("PROXY TCP4 192.0.2.7 192.0.2.1 12x 443\r\n"), null),
            new ProxyCase("v1 too long", ascii("PROXY TCP4 " + "1".repeat(100) + " 192.0.2.1 1234 443\r\n"), null),
            new ProxyCase("v1 bare LF", ascii("PROXY TCP4 192.0.2.7 192.0.2.1 1234 443\n"), null),
            new ProxyCase("v2 INET", v2(0x21, 0x11, inet4(192, 0, 2, 7, 1234), new byte[0]), "192.0.2.7:1234"),
            new ProxyCase("v2 INET with TLVs", v2(0x21, 0x11, inet4(192, 0, 2, 7, 1234),
                concat(tlv(0x02, oddAuthority), tlv(0x20, ssl), tlv(0xE0, new byte[]{0, 1, 2, (byte)0xff}), tlv(0x04, new byte[0]))), "192.0.2.7:1234"),
            new ProxyCase("v2 INET6", v2(0x21, 0x21, inet6(db8, 1234), new byte[0]), "[2001:db8::7]:1234"),
            new ProxyCase("v2 UNIX odd path", v2(0x21, 0x31, unix(unixPath), new byte[0]), "/tmp/a\nb\"c\\d\uFFFD"),
            new ProxyCase("v2 LOCAL", v2(0x20, 0x00, new byte[0], new byte[0]), "socket"),
            new ProxyCase("v2 TLV longer than the header", v2(0x21, 0x11, inet4(192, 0, 2, 7, 1234), new byte[]{0x02, 0x00, 0x40, 'x'}), null),
            new ProxyCase("v2 bad version", concat(V2_SIGNATURE, new byte[]{0x31, 0x11, 0, 12}, inet4(192, 0, 2, 7, 1234)), null),
            new ProxyCase("v2 bad family", v2(0x21, 0x51, inet4(192, 0, 2, 7, 1234), new byte[0]), null)
        );
    }

    @Test
    public void proxyHeadersWithOddAddressesAndTlvs() throws Exception
    {
        List<ProxyCase> cases = proxyCases();
        List<String> problems = new ArrayList<>();
        try (SinkServer server = new SinkServer())
        {
            HttpConnectionFactory http = new HttpConnectionFactory(server.s.httpConfig);
            server.s.addConnector(new ProxyConnectionFactory(http.getProtocol()), http);
            server.s.start();
            Map<String, Integer> ports = new java.util.LinkedHashMap<>();
            for (ProxyCase c : cases)
            {
                try (Socket socket = Raw.connect(server.s.port()))
                {
                    ports.put(c.name(), socket.getLocalPort());
                    socket.getOutputStream().write(c.header());
                    if (c.refused())
                    {
                        String rest = Raw.readToEnd(socket);
                        if (!rest.isEmpty())
                            problems.add(c.name() + ": refused, but answered " + rest);
                    }
                    else
                    {
                        Raw.write(socket, GET);
                        assertEquals("hello", Raw.read(socket.getInputStream()).text(), c.name());
                    }
                }
                catch (IOException x)
                {
                    if (!c.refused())
                        problems.add(c.name() + ": " + x);
                }
            }
            for (ProxyCase c : cases)
            {
                int clientPort = ports.get(c.name());
                List<ConnState> sequence = server.s.recorder.awaitEnd(clientPort);
                List<ConnState> expected = c.refused() ? seq("new", "closed") : seq("new", "active", "idle", "closed");
                if (!expected.equals(sequence))
                    problems.add(c.name() + ": " + sequence);
                long id = server.s.recorder.idOfClientPort(clientPort);
                String socketPeer = "127.0.0.1:" + clientPort;
                String expectedRemote = c.refused() || c.remote().equals("socket") ? socketPeer : c.remote();
                List<ConnStateEvent> events = server.s.recorder.events(id);
                // After the header, every event carries the address it said; a refused header changes nothing.
                for (ConnStateEvent e : events.subList(1, events.size()))
                {
                    if (!expectedRemote.equals(e.remoteAddress()))
                        problems.add(c.name() + ": " + e.state() + " from " + e.remoteAddress() + ", not " + expectedRemote);
                }
            }
            server.s.server.stop();
            for (ProxyCase c : cases)
            {
                long id = server.s.recorder.idOfClientPort(ports.get(c.name()));
                List<Map<String, Object>> records = server.records(id);
                Object last = records.get(records.size() - 1).get("remote");
                String expectedRemote = c.refused() || c.remote().equals("socket") ? "127.0.0.1:" + ports.get(c.name()) : c.remote();
                if (!expectedRemote.equals(last))
                    problems.add(c.name() + ": jsonl remote " + last);
            }
            assertEquals(List.of(), problems);
        }
    }

    // ---- the status table over real connections ----

    private static Raw.Response status(int port, String proxyHeader) throws IOException
    {
        try (Socket socket = Raw.connect(port))
        {
            socket.getOutputStream().write(ascii(proxyHeader + "GET /connstate HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
            return Raw.read(socket.getInputStream());
        }
    }

    @Test
    public void statusTableRefusesClientsByTheAddressTheConnectionCarries() throws Exception
    {
        for (String allow : new String[]{"", "192.0.2.0/24"})
        {
            try (TrackedServer s = new TrackedServer())
            {
                HttpConnectionFactory http = new HttpConnectionFactory(s.httpConfig);
                s.addConnector(new ProxyConnectionFactory(http.getProtocol()), http);
                s.handler(new ConnStateStatusHandler(s.tracker, "/connstate", allow));
                ((ConnStateStatusHandler)s.server.getHandler()).setHandler(new TrackedServer.Hello());
                s.start();
                boolean listed = !allow.isEmpty();
                // A client the PROXY header places outside: refused unless listed.
                Raw.Response outside = status(s.port(), "PROXY TCP4 192.0.2.7 192.0.2.1 1234 443\r\n");
                assertEquals(listed ? 200 : 403, outside.status(), "allow=" + allow);
                if (listed)
                {
                    Map<?, ?> table = (Map<?, ?>)new JSON().fromJSON(outside.text());
                    Object[] rows = (Object[])table.get("connections");
                    assertTrue(java.util.Arrays.stream(rows).anyMatch(r -> "192.0.2.7:1234".equals(((Map<?, ?>)r).get("remote"))), outside.text());
                }
                // Outside the listed range: refused either way.
                assertEquals(403, status(s.port(), "PROXY TCP4 198.51.100.9 192.0.2.1 1234 443\r\n").status());
                assertEquals(403, status(s.port(), "PROXY TCP6 2001:db8::7 2001:db8::1 1234 443\r\n").status());
                // A PROXY header that says loopback is loopback: the proxy is trusted.
                assertEquals(200, status(s.port(), "PROXY TCP4 127.0.0.1 192.0.2.1 1234 443\r\n").status());
                // A non-IP client (a Unix socket behind the proxy, an unresolvable name) is never allowed.
                byte[] unix = v2(0x21, 0x31, unix(ascii("/tmp/client.sock\u0000")), new byte[0]);
                try (Socket socket = Raw.connect(s.port()))
                {
                    socket.getOutputStream().write(concat(unix, ascii("GET /connstate HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")));
                    assertEquals(403, Raw.read(socket.getInputStream()).status());
                }
                assertEquals(403, status(s.port(), "PROXY TCP4 not-an-address.invalid 192.0.2.1 1234 443\r\n").status());
                // No PROXY header at all: the socket's peer, loopback.
                assertEquals(200, status(s.port(), "").status());
                // Forwarding headers are not the connection's address.
                try (Socket socket = Raw.connect(s.port()))
                {
                    socket.getOutputStream().write(ascii("PROXY TCP4 192.0.2.99 192.0.2.1 1234 443\r\nGET /connstate HTTP/1.1\r\nHost: localhost\r\n" +
                        "X-Forwarded-For: 127.0.0.1\r\nForwarded: for=127.0.0.1\r\nConnection: close\r\n\r\n"));
                    assertEquals(listed ? 200 : 403, Raw.read(socket.getInputStream()).status());
                }
                s.recorder.awaitAllEnded(8);
            }
        }
    }

    @Test
    public void statusHandlerRefusesBadAllowEntries()
    {
        for (String bad : new String[]{"example.com", "10.0.0.0/8;rm", "1.2.3.4 5.6.7.8", "*", "::1/129x"})
        {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", bad));
            assertEquals("Not an IP address, CIDR range or address range: '" + bad + "'", x.getMessage());
            // Among good entries, the message names the bad one alone, trimmed.
            IllegalArgumentException among = assertThrows(IllegalArgumentException.class,
                () -> new ConnStateStatusHandler(null, "/s", "10.0.0.1, " + bad + " ,192.0.2.0/24"));
            assertEquals("Not an IP address, CIDR range or address range: '" + bad + "'", among.getMessage());
        }
        IllegalArgumentException path = assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "s", ""));
        assertEquals("The status path must start with '/': 's'", path.getMessage());
    }
}
