package dev.connstate.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.connstate.jetty.ClientLimits;
import dev.connstate.jetty.ConnStateStatusHandler;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.ConnectionDrain;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.sink.BuiltInSinks;
import dev.connstate.sink.JsonLinesFile;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import dev.connstate.sink.SettingValues;
import dev.connstate.sink.SinkSettings;

/**
 * The {@code connstate} module's configuration: the {@code jetty.connstate.*} properties, checked
 * and completed with their defaults, immutable.
 *
 * <p>{@link #of(Map, String)} takes the properties as they were given (start.d ini files, the
 * command line, Jetty XML; a property not given takes its default) and either returns the
 * configuration or throws a {@link ConnStateConfigurationException} naming the property and the
 * value. It checks what the values alone decide; what needs the class path (the sink names, the
 * listener classes, a sink's own settings) is checked by {@link ListenerFactory} when it makes
 * the listeners. {@link #defaults()} is the one table of the module's properties and their
 * defaults: the XML does not repeat them, and a test holds the {@code .mod}'s documentation and
 * the committed {@code start.d/connstate.ini} to it.</p>
 */
public final class ModuleSettings
{
    /** The prefix of every property, and of a sink's own ones ({@code jetty.connstate.NAME.KEY}). */
    public static final String PREFIX = "jetty.connstate.";
    /** Property: the sinks to enable, a comma-separated list of sink names ({@code log}, {@code jsonl}, {@code connlog}, or a provider's). */
    public static final String SINKS = PREFIX + "sinks";
    /** Property: the SLF4J logger of the {@code log} sink. */
    public static final String LOG_LOGGER = PREFIX + BuiltInSinks.Log.NAME + "." + BuiltInSinks.Log.LOGGER;
    /** Property: the line template of the {@code log} sink. */
    public static final String LOG_FORMAT = PREFIX + BuiltInSinks.Log.NAME + "." + BuiltInSinks.Log.FORMAT;
    /** Property: the file of the {@code jsonl} sink, {@code -} for standard output. */
    public static final String JSONL_FILE = PREFIX + BuiltInSinks.JsonLines.NAME + "." + BuiltInSinks.JsonLines.FILE;
    /** Property: the date format that replaces {@code yyyy_mm_dd} in the {@code jsonl} sink's file name. */
    public static final String JSONL_FILENAME_DATE_FORMAT = PREFIX + BuiltInSinks.JsonLines.NAME + "." + BuiltInSinks.JsonLines.FILENAME_DATE_FORMAT;
    /** Property: how many days of the {@code jsonl} sink's files to keep besides today's, 0 for all. */
    public static final String JSONL_RETAIN_DAYS = PREFIX + BuiltInSinks.JsonLines.NAME + "." + BuiltInSinks.JsonLines.RETAIN_DAYS;
    /** Property: whether the {@code jsonl} sink appends to an existing file ({@code true} or {@code false}). */
    public static final String JSONL_APPEND = PREFIX + BuiltInSinks.JsonLines.NAME + "." + BuiltInSinks.JsonLines.APPEND;
    /** Property: the time zone of the date in the {@code jsonl} sink's file name and of its midnight. */
    public static final String JSONL_ROLLOVER_TIMEZONE = PREFIX + BuiltInSinks.JsonLines.NAME + "." + BuiltInSinks.JsonLines.ROLLOVER_TIMEZONE;
    /** Property: the file of the {@code connlog} sink, {@code -} for standard output. */
    public static final String CONNLOG_FILE = PREFIX + BuiltInSinks.ConnLog.NAME + "." + BuiltInSinks.ConnLog.FILE;
    /** Property: the date format that replaces {@code yyyy_mm_dd} in the {@code connlog} sink's file name. */
    public static final String CONNLOG_FILENAME_DATE_FORMAT = PREFIX + BuiltInSinks.ConnLog.NAME + "." + BuiltInSinks.ConnLog.FILENAME_DATE_FORMAT;
    /** Property: how many days of the {@code connlog} sink's files to keep besides today's, 0 for all. */
    public static final String CONNLOG_RETAIN_DAYS = PREFIX + BuiltInSinks.ConnLog.NAME + "." + BuiltInSinks.ConnLog.RETAIN_DAYS;
    /** Property: whether the {@code connlog} sink appends to an existing file ({@code true} or {@code false}). */
    public static final String CONNLOG_APPEND = PREFIX + BuiltInSinks.ConnLog.NAME + "." + BuiltInSinks.ConnLog.APPEND;
    /** Property: the time zone of the date in the {@code connlog} sink's file name and of its midnight. */
    public static final String CONNLOG_ROLLOVER_TIMEZONE = PREFIX + BuiltInSinks.ConnLog.NAME + "." + BuiltInSinks.ConnLog.ROLLOVER_TIMEZONE;
    /** Property: class names of user listeners, comma-separated. */
    public static final String LISTENERS = PREFIX + "listeners";
    /** Property: the queue capacity of each sink and listener. */
    public static final String QUEUE_CAPACITY = PREFIX + "queue.capacity";
    /** Property: the path of the live connection table, blank for none. */
    public static final String STATUS_PATH = PREFIX + "status.path";
    /** Property: addresses and ranges besides loopback that may read the connection table. */
    public static final String STATUS_ALLOW = PREFIX + "status.allow";
    /** Property: how many rows each state of the connection table shows at most (1 to 1000000). */
    public static final String STATUS_MAX_ROWS = PREFIX + "status.maxRows";
    /** Property: how long, in milliseconds, a connection may stay {@code idle} before it is closed; blank: the connector's idle timeout decides. */
    public static final String KEEP_ALIVE_TIMEOUT = PREFIX + "keepAliveTimeout";
    /** Property: how long, in milliseconds, a request head may take (the first from the accept, later ones from their first byte); blank or 0: off. */
    public static final String REQUEST_HEADER_TIMEOUT = PREFIX + "requestHeaderTimeout";
    /** Property: how many connections one client address may hold open; blank or 0: no cap. */
    public static final String CLIENT_MAX_CONNECTIONS = PREFIX + "client.maxConnections";
    /** Property: how many connections one client address may hold in {@code new}; blank or 0: no cap. */
    public static final String CLIENT_MAX_NEW = PREFIX + "client.maxNew";
    /** Property: addresses and ranges that the caps of connections per client do not count. */
    public static final String CLIENT_EXEMPT = PREFIX + "client.exempt";
    /** Property: whether a graceful stop drains the connections ({@code true} or {@code false}). */
    public static final String DRAIN = PREFIX + "drain";
    /** Property: how old, in milliseconds, a {@code new} connection without a request may grow during a drain. */
    public static final String DRAIN_NEW_GRACE = PREFIX + "drain.newGrace";
    /** Property: whether the OpenTelemetry instruments are registered on {@code GlobalOpenTelemetry} ({@code true} or {@code false}). */
    public static final String OTEL = PREFIX + "otel";

    /**
     * Every property of the module and its default, in the order the ini file documents them.
     * The defaults of the sinks and of the queue are their classes' own, so that the module and
     * the embedded API cannot drift apart.
     */
    private static final Map<String, String> DEFAULTS = ordered(
        SINKS, BuiltInSinks.Log.NAME,
        LOG_LOGGER, LogSink.DEFAULT_LOGGER,
        LOG_FORMAT, LogSink.DEFAULT_FORMAT,
        JSONL_FILE, BuiltInSinks.JsonLines.DEFAULT_FILE,
        JSONL_FILENAME_DATE_FORMAT, JsonLinesFile.DEFAULT_FILENAME_DATE_FORMAT,
        JSONL_RETAIN_DAYS, String.valueOf(JsonLinesFile.DEFAULT_RETAIN_DAYS),
        JSONL_APPEND, String.valueOf(JsonLinesFile.DEFAULT_APPEND),
        JSONL_ROLLOVER_TIMEZONE, JsonLinesFile.DEFAULT_TIME_ZONE,
        CONNLOG_FILE, BuiltInSinks.ConnLog.DEFAULT_FILE,
        CONNLOG_FILENAME_DATE_FORMAT, JsonLinesFile.DEFAULT_FILENAME_DATE_FORMAT,
        CONNLOG_RETAIN_DAYS, String.valueOf(JsonLinesFile.DEFAULT_RETAIN_DAYS),
        CONNLOG_APPEND, String.valueOf(JsonLinesFile.DEFAULT_APPEND),
        CONNLOG_ROLLOVER_TIMEZONE, JsonLinesFile.DEFAULT_TIME_ZONE,
        LISTENERS, "",
        QUEUE_CAPACITY, String.valueOf(ConnStateTracker.DEFAULT_QUEUE_CAPACITY),
        STATUS_PATH, "",
        STATUS_ALLOW, "",
        STATUS_MAX_ROWS, String.valueOf(ConnStateStatusHandler.DEFAULT_MAX_ROWS),
        KEEP_ALIVE_TIMEOUT, "",
        REQUEST_HEADER_TIMEOUT, "",
        CLIENT_MAX_CONNECTIONS, "0",
        CLIENT_MAX_NEW, "0",
        CLIENT_EXEMPT, "",
        DRAIN, "true",
        DRAIN_NEW_GRACE, String.valueOf(ConnectionDrain.DEFAULT_NEW_GRACE_MILLIS),
        OTEL, "false");

    /** What follows a refused address list: what it may hold. */
    private static final String ADDRESSES = " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)";

    /** Every property given, plus the default of every property of the module that was not. */
    private final Map<String, String> values;
    private final List<String> sinks;
    private final List<String> listeners;
    private final int queueCapacity;
    private final String statusPath;
    private final String statusAllow;
    private final int statusMaxRows;
    private final String baseDirectory;
    private final long keepAliveTimeoutMillis;
    private final long requestHeaderTimeoutMillis;
    private final int clientMaxConnections;
    private final int clientMaxNew;
    private final String clientExempt;
    private final boolean drain;
    private final long drainNewGraceMillis;
    private final boolean otel;

    private ModuleSettings(Map<String, String> values, List<String> sinks, List<String> listeners, int queueCapacity,
                           String statusPath, String statusAllow, int statusMaxRows, String baseDirectory, long keepAliveTimeoutMillis,
                           long requestHeaderTimeoutMillis, int clientMaxConnections, int clientMaxNew, String clientExempt, boolean drain,
                           long drainNewGraceMillis, boolean otel)
    {
        this.otel = otel;
        this.keepAliveTimeoutMillis = keepAliveTimeoutMillis;
        this.requestHeaderTimeoutMillis = requestHeaderTimeoutMillis;
        this.clientMaxConnections = clientMaxConnections;
        this.clientMaxNew = clientMaxNew;
        this.clientExempt = clientExempt;
        this.drain = drain;
        this.drainNewGraceMillis = drainNewGraceMillis;
        this.values = values;
        this.sinks = sinks;
        this.listeners = listeners;
        this.queueCapacity = queueCapacity;
        this.statusPath = statusPath;
        this.statusAllow = statusAllow;
        this.statusMaxRows = statusMaxRows;
        this.baseDirectory = baseDirectory;
    }

    /**
     * @return every property of the module and its default ({@code ""}: none), in the order the
     * ini file documents them; a sink's own properties ({@code jetty.connstate.NAME.KEY}) other
     * than those of the built-in sinks are not among them
     */
    public static Map<String, String> defaults()
    {
        return DEFAULTS;
    }

    /**
     * @param property a property of the module, e.g. {@value #SINKS}
     * @return its default ({@code ""}: none)
     * @throws IllegalArgumentException if it is not a property of the module
     */
    public static String defaultValue(String property)
    {
        String value = DEFAULTS.get(property);
        if (value == null)
            throw new IllegalArgumentException("Not a property of the connstate module: " + property);
        return value;
    }

    /**
     * Checks the properties and completes them with their defaults.
     *
     * @param properties the properties given, by their whole name ({@code jetty.connstate.sinks},
     * {@code jetty.connstate.NAME.KEY}); a property that is absent or {@code null} takes its default
     * @param baseDirectory the directory relative file names are resolved against
     * ({@code jetty.base}); {@code null} or blank for the working directory
     * @return the configuration
     * @throws ConnStateConfigurationException naming the first property whose value cannot work
     */
    public static ModuleSettings of(Map<String, String> properties, String baseDirectory)
    {
        Map<String, String> given = new HashMap<>(DEFAULTS);
        properties.forEach((property, value) ->
        {
            if (value != null)
                given.put(property, value);
        });
        Map<String, String> values = Map.copyOf(given);

        // The connection table first: when a server starts, this is checked before anything else starts.
        String statusPath = values.get(STATUS_PATH).trim();
        String statusAllow = values.get(STATUS_ALLOW).trim();
        if (!statusPath.isEmpty())
        {
            if (!statusPath.startsWith("/"))
                throw new ConnStateConfigurationException(STATUS_PATH, statusPath, "must start with '/', e.g. /connstate");
            try
            {
                // The handler owns the grammar of the allow list; this one is dropped, the one
                // served is made with the tracker when the server starts.
                new ConnStateStatusHandler(null, statusPath, statusAllow);
            }
            catch (IllegalArgumentException x)
            {
                throw new ConnStateConfigurationException(STATUS_ALLOW, statusAllow, x.getMessage() + ADDRESSES);
            }
        }
        int statusMaxRows = positive(STATUS_MAX_ROWS, values.get(STATUS_MAX_ROWS), ConnStateStatusHandler.MAX_MAX_ROWS);
        int queueCapacity = positive(QUEUE_CAPACITY, values.get(QUEUE_CAPACITY), QueuedListener.MAX_CAPACITY);
        List<String> sinks = names(SINKS, values.get(SINKS));
        List<String> listeners = names(LISTENERS, values.get(LISTENERS));
        long keepAliveTimeout = keepAliveTimeout(values.get(KEEP_ALIVE_TIMEOUT));
        long requestHeaderTimeout = values.get(REQUEST_HEADER_TIMEOUT).isBlank() ? 0 : millis(REQUEST_HEADER_TIMEOUT, values.get(REQUEST_HEADER_TIMEOUT));
        int clientMaxConnections = cap(CLIENT_MAX_CONNECTIONS, values.get(CLIENT_MAX_CONNECTIONS));
        int clientMaxNew = cap(CLIENT_MAX_NEW, values.get(CLIENT_MAX_NEW));
        String clientExempt = values.get(CLIENT_EXEMPT).trim();
        try
        {
            // The limits own the grammar of the list (the connection table's); this one is
            // dropped, the tracker's own takes the list when the server starts.
            new ClientLimits().setExempt(clientExempt);
        }
        catch (IllegalArgumentException x)
        {
            throw new ConnStateConfigurationException(CLIENT_EXEMPT, clientExempt, x.getMessage() + ADDRESSES);
        }
        boolean drain = bool(DRAIN, values.get(DRAIN));
        long drainNewGrace = millis(DRAIN_NEW_GRACE, values.get(DRAIN_NEW_GRACE));
        boolean otel = bool(OTEL, values.get(OTEL));
        return new ModuleSettings(values, sinks, listeners, queueCapacity, statusPath, statusAllow, statusMaxRows, baseDirectory, keepAliveTimeout,
            requestHeaderTimeout, clientMaxConnections, clientMaxNew, clientExempt, drain, drainNewGrace, otel);
    }

    /** {@link SettingValues#bool(String)}, refused under the property's name. */
    private static boolean bool(String property, String value)
    {
        try
        {
            return SettingValues.bool(value);
        }
        catch (IllegalArgumentException x)
        {
            throw new ConnStateConfigurationException(property, value, x.getMessage());
        }
    }

    /** {@link SettingValues#number(String, String)}, refused under the property's name, with the problem of its range. */
    private static long number(String property, String value, String unit, String range)
    {
        try
        {
            return SettingValues.number(value, unit);
        }
        catch (IllegalArgumentException x)
        {
            throw new ConnStateConfigurationException(property, value, range == null ? x.getMessage() : x.getMessage() + ", " + range);
        }
    }

    private static long millis(String property, String value)
    {
        long millis = number(property, value, "milliseconds", null);
        if (millis < 0)
            throw new ConnStateConfigurationException(property, value, "must not be negative");
        return millis;
    }

    /**
     * Blank is off (0). Zero is refused rather than read as off: servers disagree on what it means
     * (nginx: no keep-alive at all; Go: the read timeout, or none).
     */
    private static long keepAliveTimeout(String value)
    {
        if (value.isBlank())
            return 0;
        long millis = number(KEEP_ALIVE_TIMEOUT, value, "milliseconds", null);
        if (millis < 1)
            throw new ConnStateConfigurationException(KEEP_ALIVE_TIMEOUT, value, "must be more than 0 (leave it blank for the connector's idle timeout)");
        return millis;
    }

    /** Blank or 0 is no cap. */
    private static int cap(String property, String value)
    {
        if (value.isBlank())
            return 0;
        String problem = "must be between 0 (no cap) and " + Integer.MAX_VALUE;
        long cap = number(property, value, null, problem);
        if (cap < 0 || cap > Integer.MAX_VALUE)
            throw new ConnStateConfigurationException(property, value, problem);
        return (int)cap;
    }

    /** A whole number from 1 to {@code max}. */
    private static int positive(String property, String value, int max)
    {
        String problem = "must be between 1 and " + max;
        long number = number(property, value, null, problem);
        if (number < 1 || number > max)
            throw new ConnStateConfigurationException(property, value, problem);
        return (int)number;
    }

    /** Splits a comma list, trimmed, without blanks; a name given twice is refused. */
    private static List<String> names(String property, String list)
    {
        Set<String> names = new LinkedHashSet<>();
        for (String name : list.split(","))
        {
            String trimmed = name.trim();
            if (trimmed.isEmpty())
                continue;
            if (!names.add(trimmed))
                throw new ConnStateConfigurationException(property, list, "'" + trimmed + "' is listed twice");
        }
        return List.copyOf(names);
    }

    /**
     * @return the names of the sinks to enable, in the order given, without duplicates; empty for none
     */
    public List<String> sinks()
    {
        return sinks;
    }

    /**
     * @return the class names of the user listeners, in the order given, without duplicates
     */
    public List<String> listeners()
    {
        return listeners;
    }

    /**
     * @return the queue capacity of each sink and listener, between 1 and {@link QueuedListener#MAX_CAPACITY}
     */
    public int queueCapacity()
    {
        return queueCapacity;
    }

    /**
     * @return the path of the connection table, starting with {@code /}; empty for none
     */
    public String statusPath()
    {
        return statusPath;
    }

    /**
     * @return the addresses and ranges besides loopback that may read the connection table,
     * comma-separated (valid if {@link #statusPath()} is set); may be empty
     */
    public String statusAllow()
    {
        return statusAllow;
    }

    /**
     * @return how many rows each state of the connection table shows at most, between 1 and
     * {@link ConnStateStatusHandler#MAX_MAX_ROWS}: above it, those longest in the state
     */
    public int statusMaxRows()
    {
        return statusMaxRows;
    }

    /**
     * @return how long a connection may stay {@code idle} before it is closed, in milliseconds;
     * 0 when the connector's idle timeout decides (the property is blank)
     */
    public long keepAliveTimeoutMillis()
    {
        return keepAliveTimeoutMillis;
    }

    /**
     * @return how long a request head may take, in milliseconds: the first from the accept, later
     * ones from their first byte; 0 when off (the property is blank or 0)
     */
    public long requestHeaderTimeoutMillis()
    {
        return requestHeaderTimeoutMillis;
    }

    /**
     * @return how many connections one client address may hold open; 0 for no cap
     */
    public int clientMaxConnections()
    {
        return clientMaxConnections;
    }

    /**
     * @return how many connections one client address may hold in {@code new} (accepted, no
     * request yet); 0 for no cap
     */
    public int clientMaxNew()
    {
        return clientMaxNew;
    }

    /**
     * @return the addresses and ranges the caps of connections per client do not count,
     * comma-separated, checked; may be empty
     */
    public String clientExempt()
    {
        return clientExempt;
    }

    /**
     * @return whether a graceful stop drains the connections ({@link ConnectionDrain})
     */
    public boolean drain()
    {
        return drain;
    }

    /**
     * @return how old a {@code new} connection without a request may grow during a drain, in milliseconds
     */
    public long drainNewGraceMillis()
    {
        return drainNewGraceMillis;
    }

    /**
     * @return whether the OpenTelemetry instruments are registered on {@code GlobalOpenTelemetry}
     * (the OpenTelemetry Java agent sets it up)
     */
    public boolean otel()
    {
        return otel;
    }

    /**
     * @return the directory relative file names are resolved against; {@code null} or blank for
     * the working directory
     */
    public String baseDirectory()
    {
        return baseDirectory;
    }

    /**
     * @param property a property's whole name
     * @return its value as given, untrimmed, or its default if it is a property of the module;
     * {@code null} for a sink's own property that was not given
     */
    public String value(String property)
    {
        return values.get(property);
    }

    /**
     * @param property a property's whole name
     * @param problem what is wrong with its value
     * @return an exception whose one-line message names the property, its value and the problem
     */
    public ConnStateConfigurationException invalid(String property, String problem)
    {
        String value = value(property);
        return new ConnStateConfigurationException(property, value == null ? "" : value, problem);
    }

    /**
     * @param sink a sink's name
     * @return the sink's own properties, {@code jetty.connstate.NAME.KEY}: as given, or else as
     * Java system properties (those of the built-in sinks are properties of the module: given or
     * their default)
     */
    public SinkSettings sinkSettings(String sink)
    {
        return new Sink(sink);
    }

    private static Map<String, String> ordered(String... pairs)
    {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2)
        {
            map.put(pairs[i], pairs[i + 1]);
        }
        return Collections.unmodifiableMap(map);
    }

    @Override
    public String toString()
    {
        return String.format("%s{sinks=%s,listeners=%s,queueCapacity=%d,statusPath=%s}", getClass().getSimpleName(), sinks, listeners, queueCapacity, statusPath);
    }

    /** One sink's view of the properties. */
    private final class Sink implements SinkSettings
    {
        private final String sink;

        private Sink(String sink)
        {
            this.sink = sink;
        }

        @Override
        public String sinkName()
        {
            return sink;
        }

        private String property(String key)
        {
            return PREFIX + sink + "." + key;
        }

        private String raw(String key)
        {
            String value = value(property(key));
            return value != null ? value : System.getProperty(property(key));
        }

        @Override
        public String get(String key, String defaultValue)
        {
            String value = raw(key);
            return value == null ? defaultValue : value.trim();
        }

        @Override
        public Path resolve(String file)
        {
            Path path = Path.of(file);
            if (!path.isAbsolute() && baseDirectory != null && !baseDirectory.isBlank())
                path = Path.of(baseDirectory).resolve(path);
            return path;
        }

        @Override
        public RuntimeException invalid(String key, String problem)
        {
            String value = raw(key);
            return new ConnStateConfigurationException(property(key), value == null ? "" : value, problem);
        }
    }
}
