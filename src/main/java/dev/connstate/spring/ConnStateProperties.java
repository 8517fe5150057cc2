package dev.connstate.spring;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.jetty.ConnStateStatusHandler;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.ConnectionDrain;
import dev.connstate.config.ModuleSettings;
import dev.connstate.sink.BuiltInSinks;
import dev.connstate.sink.JsonLinesFile;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.convert.DurationUnit;

/**
 * The {@code connstate.*} properties of a Spring Boot application: the {@code connstate} Jetty
 * module's {@code jetty.connstate.*} ones, under Boot's names, with the module's defaults.
 *
 * <p>Boot binds them; {@link #settings()} hands them to the module's own checks
 * ({@link ModuleSettings}), and {@link #invalid(ConnStateConfigurationException)} turns what those
 * refuse into Boot's {@link InvalidConfigurationPropertyValueException}, under the Boot name, so
 * that Boot's failure report names the property and the value.</p>
 */
@ConfigurationProperties(prefix = ConnStateProperties.PREFIX)
public class ConnStateProperties
{
    /** The prefix of every property. */
    public static final String PREFIX = "connstate";

    /** Boot's name of each module property whose name differs beyond the prefix. */
    private static final Map<String, String> RENAMED = Map.ofEntries(
        Map.entry(ModuleSettings.JSONL_FILENAME_DATE_FORMAT, PREFIX + ".jsonl.filename-date-format"),
        Map.entry(ModuleSettings.JSONL_RETAIN_DAYS, PREFIX + ".jsonl.retain-days"),
        Map.entry(ModuleSettings.CONNLOG_FILENAME_DATE_FORMAT, PREFIX + ".connlog.filename-date-format"),
        Map.entry(ModuleSettings.CONNLOG_RETAIN_DAYS, PREFIX + ".connlog.retain-days"),
        Map.entry(ModuleSettings.KEEP_ALIVE_TIMEOUT, PREFIX + ".keep-alive-timeout"),
        Map.entry(ModuleSettings.REQUEST_HEADER_TIMEOUT, PREFIX + ".request-header-timeout"),
        Map.entry(ModuleSettings.CLIENT_MAX_CONNECTIONS, PREFIX + ".client.max-connections"),
        Map.entry(ModuleSettings.CLIENT_MAX_NEW, PREFIX + ".client.max-new"),
        Map.entry(ModuleSettings.DRAIN, PREFIX + ".drain.enabled"),
        Map.entry(ModuleSettings.DRAIN_NEW_GRACE, PREFIX + ".drain.new-grace"),
        Map.entry(ModuleSettings.STATUS_MAX_ROWS, PREFIX + ".status.max-rows"));

    /**
     * Whether to report the connection states of Boot's Jetty server (every connector, the
     * management port's included).
     */
    private boolean enabled = true;

    /**
     * The sinks that receive every transition: log (a log line each), jsonl (a JSON object per
     * line), connlog (a JSON object per line and per connection, when it ends), or the name of a
     * sink that a jar on the class path provides. Empty to count only (the actuator endpoint, the
     * metrics and every ConnStateListener bean still get them).
     */
    private List<String> sinks = new ArrayList<>(List.of(BuiltInSinks.Log.NAME));

    private final Log log = new Log();

    private final SinkFile jsonl = new SinkFile(BuiltInSinks.JsonLines.DEFAULT_FILE);

    private final SinkFile connlog = new SinkFile(BuiltInSinks.ConnLog.DEFAULT_FILE);

    private final Queue queue = new Queue();

    private final Status status = new Status();

    /**
     * How long a connection may stay idle (HTTP/1 between requests, HTTP/2 with no stream open)
     * before the server closes it, reason keep_alive_timeout. Set it above the load balancer's
     * idle timeout (AWS ALB 60s, nginx upstream keepalive_timeout 60s, GCP 600s), e.g. 75s behind
     * an ALB. Unset: the connector's idle timeout (server.jetty.connection-idle-timeout) closes
     * idle connections, as in plain Jetty; it keeps applying in every other state. A number alone
     * is milliseconds.
     */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration keepAliveTimeout;

    /**
     * How long a request head may take before the server closes the connection, reason
     * request_header_timeout (Go's ReadHeaderTimeout): a connection's first request must be
     * complete within it of the accept (TLS handshake, PROXY header and HTTP/1 head, or the first
     * HTTP/2 HEADERS), every later HTTP/1 request head within it of its first byte. A request that
     * reached the handler is never cut; bodies are not timed. Unset or 0: off. A number alone is
     * milliseconds.
     */
    @DurationUnit(ChronoUnit.MILLIS)
    private Duration requestHeaderTimeout;

    private final Client client = new Client();

    private final Drain drain = new Drain();

    public boolean isEnabled()
    {
        return enabled;
    }

    public void setEnabled(boolean enabled)
    {
        this.enabled = enabled;
    }

    public List<String> getSinks()
    {
        return sinks;
    }

    public void setSinks(List<String> sinks)
    {
        this.sinks = sinks;
    }

    public Log getLog()
    {
        return log;
    }

    public SinkFile getJsonl()
    {
        return jsonl;
    }

    public SinkFile getConnlog()
    {
        return connlog;
    }

    public Queue getQueue()
    {
        return queue;
    }

    public Status getStatus()
    {
        return status;
    }

    public Duration getKeepAliveTimeout()
    {
        return keepAliveTimeout;
    }

    public void setKeepAliveTimeout(Duration keepAliveTimeout)
    {
        this.keepAliveTimeout = keepAliveTimeout;
    }

    public Duration getRequestHeaderTimeout()
    {
        return requestHeaderTimeout;
    }

    public void setRequestHeaderTimeout(Duration requestHeaderTimeout)
    {
        this.requestHeaderTimeout = requestHeaderTimeout;
    }

    public Client getClient()
    {
        return client;
    }

    public Drain getDrain()
    {
        return drain;
    }

    /** The {@code log} sink. */
    public static class Log
    {
        /** The SLF4J logger of the log sink; it logs at INFO. */
        private String logger = LogSink.DEFAULT_LOGGER;

        /**
         * The log sink's line. Placeholders: {id} {remote} {local} {state} {prev} {protocol}
         * {secure} {requests} {prevMs} {ageMs} {reason} {tls} {cipher} {sni}.
         */
        private String format = LogSink.DEFAULT_FORMAT;

        public String getLogger()
        {
            return logger;
        }

        public void setLogger(String logger)
        {
            this.logger = logger;
        }

        public String getFormat()
        {
            return format;
        }

        public void setFormat(String format)
        {
            this.format = format;
        }
    }

    /** The file of a sink that writes one: the {@code jsonl} sink's, the {@code connlog} sink's. */
    public static class SinkFile
    {
        /**
         * The sink's file, relative to the working directory (missing directories are created),
         * or - for standard output. Appended.
         */
        private String file;

        /**
         * The date that replaces yyyy_mm_dd in the file's name, a file a day (SimpleDateFormat
         * syntax, as Jetty's request log's); it must name the year, month and day.
         */
        private String filenameDateFormat = JsonLinesFile.DEFAULT_FILENAME_DATE_FORMAT;

        /**
         * How many days of files to keep besides today's when the name holds yyyy_mm_dd; 0 keeps
         * them all.
         */
        private int retainDays = JsonLinesFile.DEFAULT_RETAIN_DAYS;

        /** Append to an existing file, or rename it NAME.HHmmssSSS first. */
        private boolean append = JsonLinesFile.DEFAULT_APPEND;

        private final Rollover rollover = new Rollover();

        /**
         * Private, so that neither Boot nor its metadata processor takes it for a binding
         * constructor: Boot binds into the instance the getter gives, through the setters.
         */
        private SinkFile(String file)
        {
            this.file = file;
        }

        public String getFile()
        {
            return file;
        }

        public void setFile(String file)
        {
            this.file = file;
        }

        public String getFilenameDateFormat()
        {
            return filenameDateFormat;
        }

        public void setFilenameDateFormat(String filenameDateFormat)
        {
            this.filenameDateFormat = filenameDateFormat;
        }

        public int getRetainDays()
        {
            return retainDays;
        }

        public void setRetainDays(int retainDays)
        {
            this.retainDays = retainDays;
        }

        public boolean isAppend()
        {
            return append;
        }

        public void setAppend(boolean append)
        {
            this.append = append;
        }

        public Rollover getRollover()
        {
            return rollover;
        }

        /** Puts these settings, as the module's properties of the sink {@code sink}, into {@code module}. */
        private void put(Map<String, String> module, String sink)
        {
            String prefix = ModuleSettings.PREFIX + sink + ".";
            module.put(prefix + BuiltInSinks.FileSink.FILE, file);
            module.put(prefix + BuiltInSinks.FileSink.FILENAME_DATE_FORMAT, filenameDateFormat);
            module.put(prefix + BuiltInSinks.FileSink.RETAIN_DAYS, String.valueOf(retainDays));
            module.put(prefix + BuiltInSinks.FileSink.APPEND, String.valueOf(append));
            module.put(prefix + BuiltInSinks.FileSink.ROLLOVER_TIMEZONE, rollover.getTimezone());
        }
    }

    /** When a sink's file of the day changes. */
    public static class Rollover
    {
        /** The time zone of the date in the file's name and of midnight: GMT, UTC, Europe/Paris, +01:00... */
        private String timezone = JsonLinesFile.DEFAULT_TIME_ZONE;

        public String getTimezone()
        {
            return timezone;
        }

        public void setTimezone(String timezone)
        {
            this.timezone = timezone;
        }
    }

    /** The queue in front of each sink and listener. */
    public static class Queue
    {
        /**
         * How many events each sink and listener may have waiting (1 to 2^30); a full queue drops
         * events and counts them.
         */
        private int capacity = ConnStateTracker.DEFAULT_QUEUE_CAPACITY;

        public int getCapacity()
        {
            return capacity;
        }

        public void setCapacity(int capacity)
        {
            this.capacity = capacity;
        }
    }

    /** The connection table of the actuator endpoint connstate. */
    public static class Status
    {
        /**
         * How many rows each state of the connection table shows at most (1 to 1000000): above
         * it, the connections longest in their state, and the table says so ("truncated": true).
         */
        private int maxRows = ConnStateStatusHandler.DEFAULT_MAX_ROWS;

        public int getMaxRows()
        {
            return maxRows;
        }

        public void setMaxRows(int maxRows)
        {
            this.maxRows = maxRows;
        }
    }

    /**
     * The caps of connections per client address: the connection's peer, or the PROXY protocol's
     * client once its header is read; never X-Forwarded-For.
     */
    public static class Client
    {
        /**
         * How many connections one client address may hold open. A connection over a cap is
         * closed when it opens, before any request byte is read, reason client_limit, and counted
         * (http.server.connection.rejected). 0: no cap.
         */
        private int maxConnections = 0;

        /**
         * How many connections one client address may hold in state new (accepted, no request
         * yet); refused as for max-connections. 0: no cap.
         */
        private int maxNew = 0;

        /**
         * Client addresses that neither cap counts (the load balancers, say): addresses, CIDR
         * ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9.
         */
        private List<String> exempt = new ArrayList<>();

        public int getMaxConnections()
        {
            return maxConnections;
        }

        public void setMaxConnections(int maxConnections)
        {
            this.maxConnections = maxConnections;
        }

        public int getMaxNew()
        {
            return maxNew;
        }

        public void setMaxNew(int maxNew)
        {
            this.maxNew = maxNew;
        }

        public List<String> getExempt()
        {
            return exempt;
        }

        public void setExempt(List<String> exempt)
        {
            this.exempt = exempt;
        }
    }

    /** The drain that Boot's graceful shutdown runs. */
    public static class Drain
    {
        /**
         * Whether Boot's graceful shutdown (server.shutdown=graceful) drains the connections by
         * their state, as Go's Server.Shutdown does, within
         * spring.lifecycle.timeout-per-shutdown-phase.
         */
        private boolean enabled = true;

        /**
         * During a drain, how old (from its accept) a connection that sent no request may grow
         * before it is closed. A number alone is milliseconds.
         */
        @DurationUnit(ChronoUnit.MILLIS)
        private Duration newGrace = Duration.ofMillis(ConnectionDrain.DEFAULT_NEW_GRACE_MILLIS);

        public boolean isEnabled()
        {
            return enabled;
        }

        public void setEnabled(boolean enabled)
        {
            this.enabled = enabled;
        }

        public Duration getNewGrace()
        {
            return newGrace;
        }

        public void setNewGrace(Duration newGrace)
        {
            this.newGrace = newGrace;
        }
    }

    /**
     * Checks the properties with the module's rules.
     *
     * @return the module's configuration they make
     * @throws InvalidConfigurationPropertyValueException naming the first {@code connstate.*}
     * property whose value cannot work
     */
    public ModuleSettings settings()
    {
        Map<String, String> module = new LinkedHashMap<>();
        module.put(ModuleSettings.SINKS, String.join(",", sinks));
        module.put(ModuleSettings.LOG_LOGGER, log.getLogger());
        module.put(ModuleSettings.LOG_FORMAT, log.getFormat());
        jsonl.put(module, BuiltInSinks.JsonLines.NAME);
        connlog.put(module, BuiltInSinks.ConnLog.NAME);
        module.put(ModuleSettings.QUEUE_CAPACITY, String.valueOf(queue.getCapacity()));
        module.put(ModuleSettings.STATUS_MAX_ROWS, String.valueOf(status.getMaxRows()));
        // Unset stays null: the module's blank, off. Zero or negative reach the module's check.
        module.put(ModuleSettings.KEEP_ALIVE_TIMEOUT, keepAliveTimeout == null ? null : String.valueOf(keepAliveTimeout.toMillis()));
        module.put(ModuleSettings.REQUEST_HEADER_TIMEOUT, requestHeaderTimeout == null ? null : String.valueOf(requestHeaderTimeout.toMillis()));
        module.put(ModuleSettings.CLIENT_MAX_CONNECTIONS, String.valueOf(client.getMaxConnections()));
        module.put(ModuleSettings.CLIENT_MAX_NEW, String.valueOf(client.getMaxNew()));
        module.put(ModuleSettings.CLIENT_EXEMPT, client.getExempt() == null ? null : String.join(",", client.getExempt()));
        module.put(ModuleSettings.DRAIN, String.valueOf(drain.isEnabled()));
        module.put(ModuleSettings.DRAIN_NEW_GRACE, drain.getNewGrace() == null ? null : String.valueOf(drain.getNewGrace().toMillis()));
        try
        {
            // Relative files are the working directory's, as everywhere in Boot.
            return ModuleSettings.of(module, null);
        }
        catch (ConnStateConfigurationException x)
        {
            throw invalid(x);
        }
    }

    /**
     * @param property a {@code jetty.connstate.*} property
     * @return its Boot name, {@code connstate.*}
     */
    public static String name(String property)
    {
        return RENAMED.getOrDefault(property, PREFIX + "." + property.substring(ModuleSettings.PREFIX.length()));
    }

    /**
     * @param refused what the module's checks refused, naming a {@code jetty.connstate.*} property
     * @return the same refusal under the Boot property's name, for Boot's failure report
     */
    public static InvalidConfigurationPropertyValueException invalid(ConnStateConfigurationException refused)
    {
        // The report gives the name and the value itself.
        return new InvalidConfigurationPropertyValueException(name(refused.getProperty()), refused.getValue(), refused.getProblem());
    }
}
