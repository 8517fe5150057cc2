package dev.connstate.config;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.connstate.ConnStateListener;
import dev.connstate.TrackedServer;
import dev.connstate.sink.BuiltInSinks;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.ConnStateStatusHandler;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.jetty.ConnectionDrain;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module's configuration without a server (each default, each bad value and its one-line
 * error), the listeners it makes, and the module bean's lifecycle on a real server (start, stop,
 * start again; the connection table).
 */
public class ConnStateModuleTest
{
    private static final String KNOWN = "(known: log, jsonl, connlog, memory)";

    @TempDir
    Path base;

    /** The configuration of these properties (name, value, name, value, ...), relative to the temporary base. */
    private ModuleSettings settings(String... properties)
    {
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 0; i < properties.length; i += 2)
            given.put(properties[i], properties[i + 1]);
        return ModuleSettings.of(given, base.toString());
    }

    /** The listeners these properties make, on a server without JMX. */
    private Map<String, ConnStateListener> make(String... properties)
    {
        return ListenerFactory.make(settings(properties), false);
    }

    /** The one-line message of the refusal of these properties, by the settings or when the listeners are made. */
    private String refused(String... properties)
    {
        ConnStateConfigurationException x = assertThrows(ConnStateConfigurationException.class, () -> make(properties));
        assertFalse(Files.exists(base.resolve("logs/connstate.jsonl")), "a file was left behind by: " + x.getMessage());
        return x.getMessage();
    }

    private ConnStateModule module(Server server, String sinks)
    {
        ConnStateModule module = new ConnStateModule(server);
        module.setBaseDirectory(base.toString());
        module.setSinks(sinks);
        return module;
    }

    // ---- the configuration, without a server ----

    @Test
    public void everyPropertyAndItsDefault()
    {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("jetty.connstate.sinks", "log");
        expected.put("jetty.connstate.log.logger", "connstate");
        expected.put("jetty.connstate.log.format", "Client: {remote} - new state: {state} (id {id})");
        expected.put("jetty.connstate.jsonl.file", "logs/connstate.jsonl");
        expected.put("jetty.connstate.jsonl.filenameDateFormat", "yyyy_MM_dd");
        expected.put("jetty.connstate.jsonl.retainDays", "90");
        expected.put("jetty.connstate.jsonl.append", "true");
        expected.put("jetty.connstate.jsonl.rollover.timezone", "GMT");
        expected.put("jetty.connstate.connlog.file", "logs/connlog-yyyy_mm_dd.jsonl");
        expected.put("jetty.connstate.connlog.filenameDateFormat", "yyyy_MM_dd");
        expected.put("jetty.connstate.connlog.retainDays", "90");
        expected.put("jetty.connstate.connlog.append", "true");
        expected.put("jetty.connstate.connlog.rollover.timezone", "GMT");
        expected.put("jetty.connstate.listeners", "");
        expected.put("jetty.connstate.queue.capacity", "8192");
        expected.put("jetty.connstate.status.path", "");
        expected.put("jetty.connstate.status.allow", "");
        expected.put("jetty.connstate.status.maxRows", "1000");
        expected.put("jetty.connstate.keepAliveTimeout", "");
        expected.put("jetty.connstate.requestHeaderTimeout", "");
        expected.put("jetty.connstate.client.maxConnections", "0");
        expected.put("jetty.connstate.client.maxNew", "0");
        expected.put("jetty.connstate.client.exempt", "");
        expected.put("jetty.connstate.drain", "true");
        expected.put("jetty.connstate.drain.newGrace", "5000");
        expected.put("jetty.connstate.otel", "false");
        assertEquals(List.copyOf(expected.entrySet()), List.copyOf(ModuleSettings.defaults().entrySet()));
        // The defaults of the sinks and of the queue are their classes' own.
        assertEquals(LogSink.DEFAULT_LOGGER, ModuleSettings.defaultValue(ModuleSettings.LOG_LOGGER));
        assertEquals(LogSink.DEFAULT_FORMAT, ModuleSettings.defaultValue(ModuleSettings.LOG_FORMAT));
        assertEquals(String.valueOf(ConnStateTracker.DEFAULT_QUEUE_CAPACITY), ModuleSettings.defaultValue(ModuleSettings.QUEUE_CAPACITY));
        assertEquals("Not a property of the connstate module: jetty.connstate.nope",
            assertThrows(IllegalArgumentException.class, () -> ModuleSettings.defaultValue("jetty.connstate.nope")).getMessage());

        // Nothing given: every default, resolved.
        ModuleSettings settings = ModuleSettings.of(Map.of(), null);
        assertEquals(List.of("log"), settings.sinks());
        assertEquals(List.of(), settings.listeners());
        assertEquals(8192, settings.queueCapacity());
        assertEquals("", settings.statusPath());
        assertEquals("", settings.statusAllow());
        assertEquals(1000, settings.statusMaxRows());
        assertEquals(0, settings.keepAliveTimeoutMillis());
        assertEquals(0, settings.requestHeaderTimeoutMillis());
        assertEquals(0, settings.clientMaxConnections());
        assertEquals(0, settings.clientMaxNew());
        assertEquals("", settings.clientExempt());
        assertTrue(settings.drain());
        assertEquals(5000, settings.drainNewGraceMillis());
        assertNull(settings.baseDirectory());
        expected.forEach((property, value) -> assertEquals(value, settings.value(property), property));
        assertEquals("connstate", settings.sinkSettings("log").get("logger", "other"));
        assertEquals("logs/connstate.jsonl", settings.sinkSettings("jsonl").get("file", "other"));
        assertEquals(Path.of("logs/connstate.jsonl"), settings.sinkSettings("jsonl").resolve("logs/connstate.jsonl"));
        assertEquals("logs/connlog-yyyy_mm_dd.jsonl", settings.sinkSettings("connlog").get("file", "other"));

        // A null value is a property not given.
        Map<String, String> nulls = new HashMap<>();
        expected.keySet().forEach(property -> nulls.put(property, null));
        assertEquals(List.of("log"), ModuleSettings.of(nulls, null).sinks());

        // The bean before any setter: the same defaults.
        ConnStateModule module = new ConnStateModule(new Server());
        assertEquals("log", module.getSinks());
        assertEquals("connstate", module.getLogLogger());
        assertEquals("Client: {remote} - new state: {state} (id {id})", module.getLogFormat());
        assertEquals("logs/connstate.jsonl", module.getJsonlFile());
        assertEquals("logs/connlog-yyyy_mm_dd.jsonl", module.getConnlogFile());
        assertEquals("", module.getListeners());
        assertEquals(8192, module.getQueueCapacity());
        assertEquals("", module.getStatusPath());
        assertEquals("", module.getStatusAllow());
        assertNull(module.getBaseDirectory());
    }

    @Test
    public void valuesAreTrimmedAndBlankEntriesSkipped()
    {
        ModuleSettings settings = settings(
            ModuleSettings.SINKS, " jsonl ,, log ",
            ModuleSettings.LISTENERS, " , a.B ,c.D,",
            ModuleSettings.QUEUE_CAPACITY, " 16 ",
            ModuleSettings.STATUS_PATH, " /connstate ",
            ModuleSettings.STATUS_ALLOW, " 10.0.0.0/8 ",
            ModuleSettings.LOG_FORMAT, " {id} ");
        assertEquals(List.of("jsonl", "log"), settings.sinks());
        assertEquals(List.of("a.B", "c.D"), settings.listeners());
        assertEquals(16, settings.queueCapacity());
        assertFalse(settings(ModuleSettings.DRAIN, " FALSE ").drain());
        assertEquals(250, settings(ModuleSettings.DRAIN_NEW_GRACE, " 250 ").drainNewGraceMillis());
        assertEquals(75000, settings(ModuleSettings.KEEP_ALIVE_TIMEOUT, " 75000 ").keepAliveTimeoutMillis());
        assertEquals(0, settings(ModuleSettings.KEEP_ALIVE_TIMEOUT, " ").keepAliveTimeoutMillis());
        assertEquals(10000, settings(ModuleSettings.REQUEST_HEADER_TIMEOUT, " 10000 ").requestHeaderTimeoutMillis());
        // Blank or 0: off, no cap.
        assertEquals(0, settings(ModuleSettings.REQUEST_HEADER_TIMEOUT, " ").requestHeaderTimeoutMillis());
        assertEquals(0, settings(ModuleSettings.REQUEST_HEADER_TIMEOUT, "0").requestHeaderTimeoutMillis());
        assertEquals(100, settings(ModuleSettings.CLIENT_MAX_CONNECTIONS, " 100 ").clientMaxConnections());
        assertEquals(0, settings(ModuleSettings.CLIENT_MAX_CONNECTIONS, " ").clientMaxConnections());
        assertEquals(10, settings(ModuleSettings.CLIENT_MAX_NEW, " 10 ").clientMaxNew());
        assertEquals(0, settings(ModuleSettings.CLIENT_MAX_NEW, "").clientMaxNew());
        assertEquals(Integer.MAX_VALUE, settings(ModuleSettings.CLIENT_MAX_NEW, "2147483647").clientMaxNew());
        assertEquals("10.0.0.0/8, 192.168.0.1-192.168.0.9,::1", settings(ModuleSettings.CLIENT_EXEMPT, " 10.0.0.0/8, 192.168.0.1-192.168.0.9,::1 ").clientExempt());
        assertEquals("/connstate", settings.statusPath());
        assertEquals("10.0.0.0/8", settings.statusAllow());
        assertEquals(50, settings(ModuleSettings.STATUS_MAX_ROWS, " 50 ").statusMaxRows());
        assertEquals(1, settings(ModuleSettings.STATUS_MAX_ROWS, "1").statusMaxRows());
        assertEquals(1_000_000, settings(ModuleSettings.STATUS_MAX_ROWS, "1000000").statusMaxRows());
        // As given, for the messages; trimmed for the sink.
        assertEquals(" jsonl ,, log ", settings.value(ModuleSettings.SINKS));
        assertEquals("{id}", settings.sinkSettings("log").get("format", null));
        // Blank: no sink, no listener.
        assertEquals(List.of(), settings(ModuleSettings.SINKS, " , ").sinks());
        assertEquals(List.of(), settings(ModuleSettings.LISTENERS, "").listeners());
    }

    @Test
    public void eachBadValueNamesThePropertyAndTheValue()
    {
        // Refused by the settings alone.
        assertEquals("jetty.connstate.queue.capacity=0: must be between 1 and 1073741824",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.QUEUE_CAPACITY, "0")).getMessage());
        assertEquals("jetty.connstate.queue.capacity=1073741825: must be between 1 and 1073741824",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.QUEUE_CAPACITY, "1073741825")).getMessage());
        assertEquals("jetty.connstate.queue.capacity=lots: not a number, must be between 1 and 1073741824",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.QUEUE_CAPACITY, "lots")).getMessage());
        assertEquals("jetty.connstate.otel=on: must be true or false",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.OTEL, "on")).getMessage());
        assertEquals("jetty.connstate.drain=yes: must be true or false",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.DRAIN, "yes")).getMessage());
        assertEquals("jetty.connstate.drain.newGrace=5s: not a number of milliseconds",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.DRAIN_NEW_GRACE, "5s")).getMessage());
        assertEquals("jetty.connstate.drain.newGrace=-1: must not be negative",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.DRAIN_NEW_GRACE, "-1")).getMessage());
        assertEquals("jetty.connstate.keepAliveTimeout=5s: not a number of milliseconds",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.KEEP_ALIVE_TIMEOUT, "5s")).getMessage());
        assertEquals("jetty.connstate.keepAliveTimeout=0: must be more than 0 (leave it blank for the connector's idle timeout)",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.KEEP_ALIVE_TIMEOUT, "0")).getMessage());
        assertEquals("jetty.connstate.keepAliveTimeout=-1: must be more than 0 (leave it blank for the connector's idle timeout)",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.KEEP_ALIVE_TIMEOUT, "-1")).getMessage());
        assertEquals("jetty.connstate.requestHeaderTimeout=-1: must not be negative",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.REQUEST_HEADER_TIMEOUT, "-1")).getMessage());
        assertEquals("jetty.connstate.requestHeaderTimeout=10s: not a number of milliseconds",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.REQUEST_HEADER_TIMEOUT, "10s")).getMessage());
        assertEquals("jetty.connstate.client.maxConnections=-1: must be between 0 (no cap) and 2147483647",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.CLIENT_MAX_CONNECTIONS, "-1")).getMessage());
        assertEquals("jetty.connstate.client.maxConnections=lots: not a number, must be between 0 (no cap) and 2147483647",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.CLIENT_MAX_CONNECTIONS, "lots")).getMessage());
        assertEquals("jetty.connstate.client.maxNew=-1: must be between 0 (no cap) and 2147483647",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.CLIENT_MAX_NEW, "-1")).getMessage());
        assertEquals("jetty.connstate.client.maxNew=2147483648: must be between 0 (no cap) and 2147483647",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.CLIENT_MAX_NEW, "2147483648")).getMessage());
        assertEquals("jetty.connstate.client.exempt=10.0.0.0/8,lb.example.com: Not an IP address, CIDR range or address range: 'lb.example.com'" +
                " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.CLIENT_EXEMPT, "10.0.0.0/8,lb.example.com")).getMessage());
        assertEquals("jetty.connstate.sinks=log,log: 'log' is listed twice",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.SINKS, "log,log")).getMessage());
        assertEquals("jetty.connstate.listeners=a.B, a.B: 'a.B' is listed twice",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.LISTENERS, "a.B, a.B")).getMessage());
        assertEquals("jetty.connstate.status.path=connstate: must start with '/', e.g. /connstate",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.STATUS_PATH, "connstate")).getMessage());
        assertEquals("jetty.connstate.status.allow=10.0.0.0/8,example.com: Not an IP address, CIDR range or address range: 'example.com'" +
                " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)",
            assertThrows(ConnStateConfigurationException.class,
                () -> settings(ModuleSettings.STATUS_PATH, "/connstate", ModuleSettings.STATUS_ALLOW, "10.0.0.0/8,example.com")).getMessage());
        assertEquals("jetty.connstate.status.maxRows=0: must be between 1 and 1000000",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.STATUS_MAX_ROWS, "0")).getMessage());
        assertEquals("jetty.connstate.status.maxRows=1000001: must be between 1 and 1000000",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.STATUS_MAX_ROWS, "1000001")).getMessage());
        assertEquals("jetty.connstate.status.maxRows=lots: not a number, must be between 1 and 1000000",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.STATUS_MAX_ROWS, "lots")).getMessage());
        assertEquals("jetty.connstate.status.maxRows=: not a number, must be between 1 and 1000000",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.STATUS_MAX_ROWS, "")).getMessage());
        // The allow list does nothing without the table: it is only checked with a path.
        assertEquals("example.com", settings(ModuleSettings.STATUS_ALLOW, "example.com").statusAllow());
        // The table is checked first: when a server starts, before anything else.
        assertEquals("jetty.connstate.status.path=x: must start with '/', e.g. /connstate",
            assertThrows(ConnStateConfigurationException.class, () -> settings(ModuleSettings.QUEUE_CAPACITY, "0", ModuleSettings.STATUS_PATH, "x")).getMessage());

        // Refused when the listeners are made: the sink names, the listener classes, a sink's own settings.
        assertEquals("jetty.connstate.sinks=log,foo: unknown sink 'foo' " + KNOWN, refused(ModuleSettings.SINKS, "log,foo"));
        assertEquals("jetty.connstate.sinks=LOG: unknown sink 'LOG' " + KNOWN, refused(ModuleSettings.SINKS, "LOG"));
        assertEquals("jetty.connstate.sinks= , : no sink and no listener (jetty.connstate.listeners), nothing would be reported; " +
            "to count only, enable the jmx or connstate-prometheus module or set jetty.connstate.status.path or jetty.connstate.otel=true (known sinks: log, jsonl, connlog, memory)", refused(ModuleSettings.SINKS, " , "));
        assertEquals("jetty.connstate.log.logger= : the logger name must not be empty", refused(ModuleSettings.LOG_LOGGER, " "));
        assertEquals("jetty.connstate.log.format=: The line format must not be empty", refused(ModuleSettings.LOG_FORMAT, ""));
        assertEquals("jetty.connstate.jsonl.file=: a file name is required (or - for standard output)", refused(ModuleSettings.SINKS, "jsonl", ModuleSettings.JSONL_FILE, ""));
        String className = NoDefaultConstructor.class.getName();
        assertEquals("jetty.connstate.listeners=" + className + ": class '" + className + "' has no public no-argument constructor",
            refused(ModuleSettings.LISTENERS, className));
        assertEquals("jetty.connstate.listeners=x.Y, java.lang.String: class 'x.Y' not found on the server class path (put its jar in $JETTY_BASE/lib/connstate/)",
            refused(ModuleSettings.LISTENERS, "x.Y, java.lang.String"));
        assertEquals("jetty.connstate.listeners=java.lang.String: class 'java.lang.String' does not implement dev.connstate.ConnStateListener",
            refused(ModuleSettings.LISTENERS, "java.lang.String"));
        assertEquals("jetty.connstate.listeners=dev.connstate.ConnStateListener: class 'dev.connstate.ConnStateListener' is abstract",
            refused(ModuleSettings.LISTENERS, "dev.connstate.ConnStateListener"));
        className = Throwing.class.getName();
        assertEquals("jetty.connstate.listeners=" + className + ": the constructor of '" + className + "' threw IllegalStateException: no",
            refused(ModuleSettings.LISTENERS, className));
        // No stack trace: the line is the whole message.
        assertEquals(0, new ConnStateConfigurationException("p", "v", "bad").getStackTrace().length);
    }

    @Test
    public void countingOnlyNeedsJmxOrTheTable()
    {
        assertEquals(Map.of(), ListenerFactory.make(settings(ModuleSettings.SINKS, ""), true));
        assertEquals(Map.of(), ListenerFactory.make(settings(ModuleSettings.SINKS, "", ModuleSettings.STATUS_PATH, "/connstate"), false));
        assertEquals("jetty.connstate.sinks=: no sink and no listener (jetty.connstate.listeners), nothing would be reported; " +
            "to count only, enable the jmx or connstate-prometheus module or set jetty.connstate.status.path or jetty.connstate.otel=true (known sinks: log, jsonl, connlog, memory)", refused(ModuleSettings.SINKS, ""));
        // A listener is enough.
        assertEquals(List.of("Counting"), List.copyOf(make(ModuleSettings.SINKS, "", ModuleSettings.LISTENERS, Counting.class.getName()).keySet()));
    }

    @Test
    public void defaultsAreTheLogSink()
    {
        ConnStateModule module = new ConnStateModule(new Server());
        assertEquals("log", module.getSinks());
        var resolved = ListenerFactory.make(module.settings(), false);
        assertEquals(List.of("log"), List.copyOf(resolved.keySet()));
        assertInstanceOf(LogSink.class, resolved.get("log"));
        assertEquals(LogSink.DEFAULT_FORMAT, ((LogSink)resolved.get("log")).getFormat());
        assertEquals("log[connstate]", resolved.get("log").toString());
    }

    @Test
    public void theBeanGivesWhatWasSet()
    {
        ConnStateModule module = new ConnStateModule(new Server());
        module.setBaseDirectory(base.toString());
        module.setSinks("log,jsonl");
        module.setLogLogger("access");
        module.setLogFormat("{id} {state}");
        module.setJsonlFile("-");
        module.setConnlogFile("connections.jsonl");
        module.setListeners(Counting.class.getName());
        module.setQueueCapacity(16);
        module.setStatusPath(" /connstate ");
        module.setStatusAllow(" 10.0.0.1 ");
        module.setStatusMaxRows(" 25 ");
        module.setSinkProperty("memory.tag", "blue");
        ModuleSettings settings = module.settings();
        assertEquals(List.of("log", "jsonl"), settings.sinks());
        assertEquals(List.of(Counting.class.getName()), settings.listeners());
        assertEquals(16, settings.queueCapacity());
        assertEquals("/connstate", settings.statusPath());
        assertEquals("/connstate", module.getStatusPath());
        assertEquals("10.0.0.1", settings.statusAllow());
        assertEquals("10.0.0.1", module.getStatusAllow());
        assertEquals(25, settings.statusMaxRows());
        assertEquals(" 25 ", module.getStatusMaxRows());
        assertEquals(base.toString(), settings.baseDirectory());
        assertEquals("access", settings.value(ModuleSettings.LOG_LOGGER));
        assertEquals("{id} {state}", settings.value(ModuleSettings.LOG_FORMAT));
        assertEquals("-", settings.value(ModuleSettings.JSONL_FILE));
        assertEquals("connections.jsonl", settings.value(ModuleSettings.CONNLOG_FILE));
        assertEquals("connections.jsonl", module.getConnlogFile());
        assertEquals("blue", settings.sinkSettings("memory").get("tag", "plain"));
        // setSinkProperty is the same property as its setter.
        module.setSinkProperty("log.format", "{id}");
        assertEquals("{id}", module.getLogFormat());
        // null: the default again for a sink's property, none for the lists.
        module.setLogFormat(null);
        module.setSinks(null);
        module.setListeners(null);
        assertEquals(LogSink.DEFAULT_FORMAT, module.getLogFormat());
        assertEquals(List.of(), module.settings().sinks());
        assertEquals(List.of(), module.settings().listeners());
        assertEquals("", module.getSinks());
        // Any property as text, as the XML passes the queue capacity: refused at start if it cannot work.
        module.setProperty(ModuleSettings.QUEUE_CAPACITY, "lots");
        assertEquals(0, module.getQueueCapacity());
        assertEquals("jetty.connstate.queue.capacity=lots: not a number, must be between 1 and 1073741824",
            assertThrows(ConnStateConfigurationException.class, module::settings).getMessage());
        module.setProperty(ModuleSettings.QUEUE_CAPACITY, "32");
        assertEquals(32, module.getQueueCapacity());
        assertEquals(32, module.settings().queueCapacity());
        // null: not given, the default.
        module.setProperty(ModuleSettings.QUEUE_CAPACITY, null);
        module.setProperty(ModuleSettings.SINKS, null);
        assertEquals(8192, module.settings().queueCapacity());
        assertEquals(List.of("log"), module.settings().sinks());
    }

    @Test
    public void aSinksOwnPropertyFallsBackToTheSystemProperty()
    {
        String key = "jetty.connstate.memory.tag";
        String logFormat = "jetty.connstate.log.format";
        System.setProperty(key, "green");
        System.setProperty(logFormat, "{nope}");
        try
        {
            assertEquals("memory[green]", make(ModuleSettings.SINKS, "memory").get("memory").toString());
            // Given wins.
            assertEquals("memory[blue]", make(ModuleSettings.SINKS, "memory", key, "blue").get("memory").toString());
            // The built-in sinks' properties are the module's: given or their default, never a system property.
            assertEquals(LogSink.DEFAULT_FORMAT, ((LogSink)make().get("log")).getFormat());
        }
        finally
        {
            System.clearProperty(key);
            System.clearProperty(logFormat);
        }
    }

    @Test
    public void jsonlFileIsRelativeToTheBaseAndItsDirectoryIsMade() throws IOException
    {
        var resolved = make(ModuleSettings.SINKS, " log , jsonl ");
        assertEquals(List.of("log", "jsonl"), List.copyOf(resolved.keySet()));
        assertTrue(Files.exists(base.resolve("logs/connstate.jsonl")));
        ((JsonLinesSink)resolved.get("jsonl")).close();
    }

    /** A property of the sink that writes a file (jsonl, connlog): {@code jetty.connstate.SINK.KEY}. */
    private static String property(String sink, String key)
    {
        return ModuleSettings.PREFIX + sink + "." + key;
    }

    /** The keys of the sinks that write a file, each refused under the sink's own property. */
    @ParameterizedTest
    @ValueSource(strings = {"jsonl", "connlog"})
    public void fileSettingsAreRefusedByName(String sink)
    {
        String dateFormat = property(sink, BuiltInSinks.FileSink.FILENAME_DATE_FORMAT);
        String retainDays = property(sink, BuiltInSinks.FileSink.RETAIN_DAYS);
        String timeZone = property(sink, BuiltInSinks.FileSink.ROLLOVER_TIMEZONE);
        assertEquals(property(sink, "file") + "=: a file name is required (or - for standard output)",
            refused(ModuleSettings.SINKS, sink, property(sink, BuiltInSinks.FileSink.FILE), ""));
        assertEquals(dateFormat + "=yyyy_qq_dd: not a date format (SimpleDateFormat): Illegal pattern character 'q'",
            refused(ModuleSettings.SINKS, sink, dateFormat, "yyyy_qq_dd"));
        assertEquals(dateFormat + "=yyyy_MM: must name the year, month and day (e.g. yyyy_MM_dd): the age of an old file is read from its name",
            refused(ModuleSettings.SINKS, sink, dateFormat, "yyyy_MM"));
        assertEquals(dateFormat + "=yyyy/MM/dd: must not put a '/' in the file name",
            refused(ModuleSettings.SINKS, sink, dateFormat, "yyyy/MM/dd"));
        assertEquals(retainDays + "=ninety: not a number of days",
            refused(ModuleSettings.SINKS, sink, retainDays, "ninety"));
        assertEquals(retainDays + "=-1: must be 0 (keep every file) or more days",
            refused(ModuleSettings.SINKS, sink, retainDays, "-1"));
        assertEquals(property(sink, "append") + "=yes: must be true or false",
            refused(ModuleSettings.SINKS, sink, property(sink, BuiltInSinks.FileSink.APPEND), "yes"));
        assertEquals(timeZone + "=Mars/Olympus: unknown time zone (e.g. GMT, UTC, Europe/Paris, +01:00)",
            refused(ModuleSettings.SINKS, sink, timeZone, "Mars/Olympus"));
        // Also when the sink writes to standard output, which does not use them.
        assertEquals(retainDays + "=-1: must be 0 (keep every file) or more days",
            refused(ModuleSettings.SINKS, sink, property(sink, BuiltInSinks.FileSink.FILE), "-", retainDays, "-1"));
        // Each sink reads its own keys: the other one's (here good) do not reach it.
        String other = sink.equals("jsonl") ? "connlog" : "jsonl";
        assertEquals(retainDays + "=-1: must be 0 (keep every file) or more days",
            refused(ModuleSettings.SINKS, other + "," + sink, property(other, BuiltInSinks.FileSink.FILE), "-", property(other, BuiltInSinks.FileSink.RETAIN_DAYS), "7", retainDays, "-1"));
        // Through the bean's setProperty, as the module's XML passes them.
        ConnStateModule module = module(new Server(), sink);
        module.setProperty(timeZone, " Mars/Olympus ");
        assertEquals(timeZone + "= Mars/Olympus : unknown time zone (e.g. GMT, UTC, Europe/Paris, +01:00)",
            assertThrows(ConnStateConfigurationException.class, () -> ListenerFactory.make(module.settings(), false)).getMessage());
        assertFalse(Files.exists(base.resolve("logs")), "a refused " + sink + " sink made its directory");
    }

    @ParameterizedTest
    @ValueSource(strings = {"jsonl", "connlog"})
    public void fileByTheDayFromTheModulesProperties(String sink) throws IOException
    {
        // The system clock: the day may change while the sink opens (then try again).
        for (int attempt = 1; ; attempt++)
        {
            ZoneId paris = ZoneId.of("Europe/Paris");
            LocalDate day = LocalDate.now(paris);
            Files.createDirectories(base.resolve("logs"));
            Path old = Files.writeString(base.resolve("logs/connstate-" + DateTimeFormatter.BASIC_ISO_DATE.format(day.minusDays(8)) + ".jsonl"), "x\n");
            Path kept = Files.writeString(base.resolve("logs/connstate-" + DateTimeFormatter.BASIC_ISO_DATE.format(day.minusDays(7)) + ".jsonl"), "x\n");
            var resolved = make(ModuleSettings.SINKS, sink, property(sink, BuiltInSinks.FileSink.FILE), "logs/connstate-yyyy_mm_dd.jsonl",
                property(sink, BuiltInSinks.FileSink.FILENAME_DATE_FORMAT), " yyyyMMdd ", property(sink, BuiltInSinks.FileSink.RETAIN_DAYS), "7",
                property(sink, BuiltInSinks.FileSink.APPEND), "TRUE", property(sink, BuiltInSinks.FileSink.ROLLOVER_TIMEZONE), "Europe/Paris");
            Closeable made = (Closeable)resolved.get(sink);
            made.close();
            Path today = base.resolve("logs/connstate-" + DateTimeFormatter.BASIC_ISO_DATE.format(day) + ".jsonl");
            if (!day.equals(LocalDate.now(paris)) && attempt < 3)
                continue;
            assertEquals(sink + "[" + base.resolve("logs/connstate-yyyy_mm_dd.jsonl") + "]", made.toString());
            assertTrue(Files.exists(today), today.toString());
            assertFalse(Files.exists(old), "not deleted: " + old);
            assertTrue(Files.exists(kept), "deleted: " + kept);
            return;
        }
    }

    @Test
    public void aBadSettingLeavesNoFileBehind()
    {
        assertEquals("jetty.connstate.log.format={nope}: Unknown placeholder {nope} in line format '{nope}'",
            refused(ModuleSettings.SINKS, "jsonl,log", ModuleSettings.LOG_FORMAT, "{nope}").replaceFirst(" \\(known: .*\\)$", ""));
        assertEquals("jetty.connstate.listeners=" + Throwing.class.getName() + ": the constructor of '" + Throwing.class.getName() + "' threw IllegalStateException: no",
            refused(ModuleSettings.SINKS, "jsonl,log", ModuleSettings.LISTENERS, Throwing.class.getName()));
    }

    @Test
    public void sinksFromProvidersWithTheirOwnProperties()
    {
        var resolved = make(ModuleSettings.SINKS, "log,memory", "jetty.connstate.memory.tag", "blue");
        assertEquals(List.of("log", "memory"), List.copyOf(resolved.keySet()));
        assertEquals("memory[blue]", resolved.get("memory").toString());
        assertEquals("jetty.connstate.sinks=log,nope: unknown sink 'nope' " + KNOWN, refused(ModuleSettings.SINKS, "log,nope"));
        assertEquals("jetty.connstate.memory.tag=: must not be blank", refused(ModuleSettings.SINKS, "memory", "jetty.connstate.memory.tag", ""));
        // The same through the bean's setSinkProperty.
        ConnStateModule module = module(new Server(), "memory");
        module.setSinkProperty("memory.tag", "");
        assertEquals("jetty.connstate.memory.tag=: must not be blank",
            assertThrows(ConnStateConfigurationException.class, () -> ListenerFactory.make(module.settings(), false)).getMessage());
    }

    @Test
    public void listenersGetUniqueNames()
    {
        String counting = Counting.class.getName();
        String other = Twin.Counting.class.getName();
        assertEquals(List.of("log", "Counting", "Counting2"), List.copyOf(make(ModuleSettings.LISTENERS, counting + "," + other).keySet()));
    }

    // ---- the bean on a real server ----

    @Test
    public void theDrainSettingsReachTheTrackerBeforeTheHandlersAreLookedAt() throws Exception
    {
        for (String drain : new String[]{null, "false"})
        {
            Server server = new Server();
            ServerConnector connector = new ServerConnector(server, 1, 1);
            connector.setHost("127.0.0.1");
            server.addConnector(connector);
            // As the graceful module sets it up, before the connstate module's XML runs.
            server.setHandler(new GracefulHandler(new TrackedServer.Hello()));
            ConnStateModule module = module(server, "");
            module.setStatusPath("/connstate");
            module.setProperty(ModuleSettings.DRAIN, drain);
            module.setProperty(ModuleSettings.DRAIN_NEW_GRACE, "750");
            // Set by the same assembly as the drain.
            module.setProperty(ModuleSettings.KEEP_ALIVE_TIMEOUT, "75000");
            module.setProperty(ModuleSettings.REQUEST_HEADER_TIMEOUT, "10000");
            module.setProperty(ModuleSettings.CLIENT_MAX_CONNECTIONS, "100");
            module.setProperty(ModuleSettings.CLIENT_MAX_NEW, "10");
            module.setProperty(ModuleSettings.CLIENT_EXEMPT, "10.0.0.0/8, 192.168.0.1-192.168.0.9");
            server.addBean(module);
            server.start();
            try
            {
                ConnectionDrain connectionDrain = module.getTracker().getDrain();
                assertEquals(drain == null, connectionDrain.isEnabled(), "drain=" + drain);
                assertEquals(750, connectionDrain.getNewGraceMillis());
                assertEquals(75000, module.getTracker().getKeepAlive().getTimeoutMillis());
                assertEquals(10000, module.getTracker().getRequestHeaderTimeout().getTimeoutMillis());
                assertEquals(100, module.getTracker().getClientLimits().getMaxConnections());
                assertEquals(10, module.getTracker().getClientLimits().getMaxNew());
                assertEquals("10.0.0.0/8, 192.168.0.1-192.168.0.9", module.getTracker().getClientLimits().getExempt());
                // On: Jetty's 503-answering GracefulHandler is taken out; off: left where it was.
                assertEquals(drain == null ? 0 : 1, server.getDescendants(GracefulHandler.class).size(), "drain=" + drain);
            }
            finally
            {
                server.stop();
            }
        }
    }

    @Test
    public void startStopStartOnARealServer() throws Exception
    {
        Server server = TrackedServer.helloServer();
        ServerConnector connector = (ServerConnector)server.getConnectors()[0];
        ConnStateModule module = module(server, "jsonl");
        module.setListeners(Counting.class.getName());
        server.addBean(module);
        Path file = base.resolve("logs/connstate.jsonl");
        try
        {
            for (int round = 1; round <= 2; round++)
            {
                server.start();
                // The jsonl file is made last (a bad setting must not leave a file behind).
                assertEquals(List.of("Counting", "jsonl"),
                    module.getTracker().getQueuedListeners().stream().map(q -> q.getName().replaceFirst("-[0-9]+$", "")).toList(), "round " + round);
                try (Socket socket = new Socket("127.0.0.1", connector.getLocalPort()))
                {
                    socket.setSoTimeout(10_000);
                    socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    InputStream in = socket.getInputStream();
                    assertTrue(new String(in.readAllBytes(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
                }
                server.stop();
                // Stopping delivered everything: one sink, not two, after a restart.
                assertEquals(3 * round, Files.readAllLines(file).size(), "round " + round);
                assertEquals(List.of(), List.copyOf(module.getTracker().getBeans(QueuedListener.class)), "queues left after stop");
            }
        }
        finally
        {
            server.stop();
        }
    }

    /** The connlog sink's properties reach it: one connection, one record in the file they name. */
    @Test
    public void connlogRecordsAConnectionInTheConfiguredFile() throws Exception
    {
        Server server = TrackedServer.helloServer();
        ServerConnector connector = (ServerConnector)server.getConnectors()[0];
        ConnStateModule module = module(server, "connlog");
        module.setConnlogFile("connlogs/connections.jsonl");
        server.addBean(module);
        server.start();
        try
        {
            assertEquals(List.of("connlog"),
                module.getTracker().getQueuedListeners().stream().map(q -> q.getName().replaceFirst("-[0-9]+$", "")).toList());
            ConnLogFile.oneRequest(connector.getLocalPort(), "/");
            Map<String, Object> record = ConnLogFile.awaitOnlyRecord(base.resolve("connlogs/connections.jsonl"));
            assertEquals("closed", record.get("end"));
            assertEquals(1L, record.get("requests"));
        }
        finally
        {
            server.stop();
        }
    }

    @Test
    public void statusTableOnTheServersPath() throws Exception
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ConnStateModule module = module(server, "log");
        module.setStatusPath("/connstate");
        module.setStatusMaxRows("7");
        server.addBean(module);
        // Set after the module, as a later XML file would: the table must still be served.
        server.setHandler(new TrackedServer.Hello());
        try
        {
            for (int round = 1; round <= 2; round++)
            {
                server.start();
                assertTrue(get(connector, "/connstate").contains("\"counts\":{\"new\":0,\"active\":1,\"idle\":0}"));
                assertTrue(get(connector, "/other").endsWith("hello"));
                // Once: a restart keeps the one table.
                assertEquals(1, server.getDescendants(ConnStateStatusHandler.class).size(), "round " + round);
                assertEquals(7, server.getDescendants(ConnStateStatusHandler.class).get(0).getMaxRows(), "round " + round);
                server.stop();
            }
        }
        finally
        {
            server.stop();
        }
    }

    @Test
    public void badSettingsStopTheServerBeforeAnythingStarts()
    {
        Server server = new Server();
        ConnStateModule module = module(server, "log");
        module.setStatusPath("/connstate");
        module.setStatusAllow("10.0.0.0/8,example.com");
        server.addBean(module);
        ConnStateConfigurationException x = assertThrows(ConnStateConfigurationException.class, server::start);
        assertEquals("jetty.connstate.status.allow=10.0.0.0/8,example.com: Not an IP address, CIDR range or address range: 'example.com'" +
            " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)", x.getMessage());
        module.setStatusAllow("");
        module.setStatusPath("connstate");
        x = assertThrows(ConnStateConfigurationException.class, server::start);
        assertEquals("jetty.connstate.status.path=connstate: must start with '/', e.g. /connstate", x.getMessage());
        // Any setting: checked when the server starts, before its beans.
        module.setStatusPath("");
        module.setQueueCapacity(0);
        x = assertThrows(ConnStateConfigurationException.class, server::start);
        assertEquals("jetty.connstate.queue.capacity=0: must be between 1 and 1073741824", x.getMessage());
        assertFalse(module.getTracker().isStarted());
        assertEquals(List.of(), server.getDescendants(ConnStateStatusHandler.class));
    }

    private static String get(ServerConnector connector, String path) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", connector.getLocalPort()))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** A sink from a provider on the class path: src/test/resources/META-INF/services. */
    public static class MemorySinkProvider implements dev.connstate.sink.ConnStateSinkProvider
    {
        @Override
        public String name()
        {
            return "memory";
        }

        @Override
        public dev.connstate.ConnStateListener newSink(dev.connstate.sink.SinkSettings settings)
        {
            String tag = settings.get("tag", "plain");
            if (tag.isEmpty())
                throw settings.invalid("tag", "must not be blank");
            return new dev.connstate.ConnStateListener()
            {
                @Override
                public void onStateChange(dev.connstate.ConnInfo conn, dev.connstate.ConnState state)
                {
                }

                @Override
                public String toString()
                {
                    return "memory[" + tag + "]";
                }
            };
        }
    }

    public static class NoDefaultConstructor implements dev.connstate.ConnStateListener
    {
        public NoDefaultConstructor(String ignored)
        {
        }

        @Override
        public void onStateChange(dev.connstate.ConnInfo conn, dev.connstate.ConnState state)
        {
        }
    }

    public static class Counting implements dev.connstate.ConnStateListener
    {
        @Override
        public void onStateChange(dev.connstate.ConnInfo conn, dev.connstate.ConnState state)
        {
        }
    }

    /** Holds another class of the same simple name, to see names made unique. */
    public static class Twin
    {
        public static class Counting extends ConnStateModuleTest.Counting
        {
        }
    }

    public static class Throwing extends Counting
    {
        public Throwing()
        {
            throw new IllegalStateException("no");
        }
    }
}
