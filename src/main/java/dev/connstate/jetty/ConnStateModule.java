package dev.connstate.jetty;

import java.io.Closeable;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Pattern;

import dev.connstate.ConnStateListener;
import dev.connstate.sink.BuiltInSinks;
import dev.connstate.sink.ConnStateSinkProvider;
import dev.connstate.sink.LogSink;
import dev.connstate.sink.SinkSettings;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code connstate} Jetty module as a bean: a {@link ConnStateTracker} for every connector of
 * the server, plus the sinks and listeners that the {@code jetty.connstate.*} properties name.
 *
 * <p>{@code etc/jetty-connstate.xml} creates it, sets the properties and adds it to the
 * {@link Server}. Nothing is checked before it starts; when it starts, every setting is checked
 * first, and only if all are good are the sinks and listeners added (queued, each on its own
 * thread) and the tracker started. A setting that cannot work throws a
 * {@link ConnStateConfigurationException}, one line naming the property and the value, and the
 * server does not start.</p>
 *
 * <p>The tracker starts before the connectors (Jetty starts a server's beans first, its
 * connectors last) and attaches to all of them, whatever the order of the modules.</p>
 */
@ManagedObject("The connstate module: a connection state tracker and its sinks")
public class ConnStateModule extends ContainerLifeCycle
{
    private static final Logger LOG = LoggerFactory.getLogger(ConnStateModule.class);

    /** Property: the sinks to enable, a comma-separated list of sink names ({@code log}, {@code jsonl}, or a provider's). */
    public static final String SINKS = "jetty.connstate.sinks";
    /** Property: the SLF4J logger of the {@code log} sink. */
    public static final String LOG_LOGGER = "jetty.connstate.log.logger";
    /** Property: the line template of the {@code log} sink. */
    public static final String LOG_FORMAT = "jetty.connstate.log.format";
    /** Property: the file of the {@code jsonl} sink, {@code -} for standard output. */
    public static final String JSONL_FILE = "jetty.connstate.jsonl.file";
    /** Property: class names of user listeners, comma-separated. */
    public static final String LISTENERS = "jetty.connstate.listeners";
    /** Property: the path of the live connection table, blank for none. */
    public static final String STATUS_PATH = "jetty.connstate.status.path";
    /** Property: addresses and ranges besides loopback that may read the connection table. */
    public static final String STATUS_ALLOW = "jetty.connstate.status.allow";
    /** Property: the queue capacity of each sink and listener. */
    public static final String QUEUE_CAPACITY = "jetty.connstate.queue.capacity";
    /** The prefix of every property, and of a sink's own ones ({@code jetty.connstate.NAME.KEY}). */
    public static final String PREFIX = "jetty.connstate.";

    /** Sink: one log line per transition. */
    public static final String SINK_LOG = "log";
    /** Sink: one JSON object per line and per transition. */
    public static final String SINK_JSONL = "jsonl";

    /** Default of {@value #SINKS}. */
    public static final String DEFAULT_SINKS = SINK_LOG;
    /** Default of {@value #JSONL_FILE}, relative to {@code jetty.base}. */
    public static final String DEFAULT_JSONL_FILE = BuiltInSinks.JsonLines.DEFAULT_FILE;

    private static final Pattern SINK_NAME = Pattern.compile("[a-z0-9_-]+");

    private final ConnStateTracker tracker;
    private final List<ConnStateListener> added = new ArrayList<>();
    private final Server server;
    /** The sinks' own settings by {@code NAME.KEY}, e.g. {@code log.format}. */
    private final Map<String, String> sinkProperties = new LinkedHashMap<>();
    private String sinks = DEFAULT_SINKS;
    private String listeners = "";
    private String baseDirectory;
    private int queueCapacity = ConnStateTracker.DEFAULT_QUEUE_CAPACITY;
    private String statusPath = "";
    private String statusAllow = "";
    private ConnStateStatusHandler statusHandler;

    /**
     * @param server the server whose connectors to track; add this module to it as a bean
     */
    public ConnStateModule(@Name("server") Server server)
    {
        this.server = server;
        this.tracker = new ConnStateTracker(server);
        addBean(tracker, true);
        // The connection table wraps the server's handler. Jetty XML may set the handler
        // after this module's XML ran, so the wrapper goes in when the server starts: after
        // all XML, before any handler starts.
        server.addEventListener(new LifeCycle.Listener()
        {
            @Override
            public void lifeCycleStarting(LifeCycle event)
            {
                installStatusHandler();
            }
        });
    }

    /**
     * @return the tracker, for more listeners ({@code <Get id="ConnStateTracker" name="tracker"/>})
     */
    @ManagedAttribute("The connection state tracker")
    public ConnStateTracker getTracker()
    {
        return tracker;
    }

    @ManagedAttribute("The enabled sinks (jetty.connstate.sinks)")
    public String getSinks()
    {
        return sinks;
    }

    /**
     * @param sinks a comma-separated list of sink names ({@code log}, {@code jsonl}); blank
     * for none (then {@link #setListeners(String)} must name at least one listener)
     */
    public void setSinks(String sinks)
    {
        this.sinks = sinks;
    }

    @ManagedAttribute("The logger of the log sink (jetty.connstate.log.logger)")
    public String getLogLogger()
    {
        return sinkProperties.getOrDefault("log.logger", LogSink.DEFAULT_LOGGER);
    }

    /**
     * @param logLogger the SLF4J logger name of the {@code log} sink; {@code null} for the default
     */
    public void setLogLogger(String logLogger)
    {
        setSinkProperty("log.logger", logLogger);
    }

    @ManagedAttribute("The line template of the log sink (jetty.connstate.log.format)")
    public String getLogFormat()
    {
        return sinkProperties.getOrDefault("log.format", LogSink.DEFAULT_FORMAT);
    }

    /**
     * @param logFormat the line template of the {@code log} sink (see {@link LogSink}); {@code null} for the default
     */
    public void setLogFormat(String logFormat)
    {
        setSinkProperty("log.format", logFormat);
    }

    @ManagedAttribute("The file of the jsonl sink, - for standard output (jetty.connstate.jsonl.file)")
    public String getJsonlFile()
    {
        return sinkProperties.getOrDefault("jsonl.file", DEFAULT_JSONL_FILE);
    }

    /**
     * @param jsonlFile the file the {@code jsonl} sink appends to, relative to the
     * {@linkplain #setBaseDirectory(String) base directory}, or {@code -} for standard output;
     * missing parent directories are created; {@code null} for the default
     */
    public void setJsonlFile(String jsonlFile)
    {
        setSinkProperty("jsonl.file", jsonlFile);
    }

    /**
     * Sets a sink's own property, {@code jetty.connstate.NAME.KEY}: the XML of a module that
     * brings a sink of its own passes its properties this way. A property not set here is
     * looked up among the Java system properties.
     *
     * @param key {@code NAME.KEY}, e.g. {@code log.format}
     * @param value the value; {@code null} unsets it
     */
    public void setSinkProperty(@Name("key") String key, @Name("value") String value)
    {
        if (value == null)
            sinkProperties.remove(key);
        else
            sinkProperties.put(key, value);
    }

    @ManagedAttribute("The path of the live connection table, blank for none (jetty.connstate.status.path)")
    public String getStatusPath()
    {
        return statusPath;
    }

    /**
     * @param statusPath the exact path that serves the live connection table as JSON, e.g.
     * {@code /connstate}; blank (the default) for none. It is taken when the server starts.
     */
    public void setStatusPath(String statusPath)
    {
        this.statusPath = statusPath == null ? "" : statusPath.trim();
    }

    @ManagedAttribute("Addresses besides loopback allowed to read the connection table (jetty.connstate.status.allow)")
    public String getStatusAllow()
    {
        return statusAllow;
    }

    /**
     * @param statusAllow addresses, CIDR ranges ({@code 10.0.0.0/8}) or address ranges
     * ({@code 10.0.0.1-10.0.0.9}), comma-separated, that may read the connection table besides
     * loopback clients
     */
    public void setStatusAllow(String statusAllow)
    {
        this.statusAllow = statusAllow == null ? "" : statusAllow.trim();
    }

    @ManagedAttribute("Class names of the user listeners (jetty.connstate.listeners)")
    public String getListeners()
    {
        return listeners;
    }

    /**
     * @param listeners a comma-separated list of class names of {@link ConnStateListener}
     * implementations with a public no-argument constructor, on the server's class path; each
     * runs queued, on its own thread
     */
    public void setListeners(String listeners)
    {
        this.listeners = listeners;
    }

    @ManagedAttribute("The directory relative file names are resolved against (jetty.base)")
    public String getBaseDirectory()
    {
        return baseDirectory;
    }

    /**
     * @param baseDirectory the directory a relative {@code jsonl} file is resolved against
     * ({@code jetty.base}); {@code null} for the working directory
     */
    public void setBaseDirectory(String baseDirectory)
    {
        this.baseDirectory = baseDirectory;
    }

    @ManagedAttribute("The queue capacity of each sink and listener")
    public int getQueueCapacity()
    {
        return queueCapacity;
    }

    /**
     * @param queueCapacity how many events each sink or listener may have waiting; more are
     * dropped and counted
     */
    public void setQueueCapacity(int queueCapacity)
    {
        this.queueCapacity = queueCapacity;
    }

    @Override
    protected void doStart() throws Exception
    {
        // Check everything before touching the tracker: either all of it works, or nothing starts.
        Map<String, ConnStateListener> resolved;
        try
        {
            resolved = resolve();
        }
        catch (ConnStateConfigurationException x)
        {
            // The line to look for, in the server's log too (Jetty prints the exception on stderr).
            LOG.error("Not starting: {}", x.getMessage());
            throw x;
        }
        for (Map.Entry<String, ConnStateListener> entry : resolved.entrySet())
        {
            tracker.addListener(entry.getKey(), entry.getValue(), queueCapacity);
            added.add(entry.getValue());
        }
        try
        {
            // Starts the tracker, which starts the queues and attaches to every connector.
            super.doStart();
        }
        catch (Throwable x)
        {
            // The queues may not have started, so they may not have closed their sinks.
            removeAdded(true);
            throw x;
        }
        if (resolved.isEmpty())
        {
            List<String> where = new ArrayList<>();
            if (hasJmx())
                where.add("JMX");
            if (!statusPath.isEmpty())
                where.add(statusPath);
            LOG.info("Counting connection states of every connector, no sink: read them through {}", String.join(" and ", where));
        }
        else
            LOG.info("Reporting connection states of every connector to {}", describe(resolved));
    }

    @Override
    protected void doStop() throws Exception
    {
        // The tracker reports what is still open as closed, the queues deliver and close their sinks.
        super.doStop();
        removeAdded(false);
    }

    private void removeAdded(boolean close)
    {
        for (ConnStateListener listener : added)
        {
            tracker.removeListener(listener);
            if (close)
                closeQuietly(listener);
        }
        added.clear();
    }

    /**
     * Checks every setting and makes the sinks and listeners they name.
     *
     * @return the listeners to add, by name (a sink's name, a listener's simple class name)
     * @throws ConnStateConfigurationException naming the first setting that cannot work; nothing
     * made before it is left open
     */
    Map<String, ConnStateListener> resolve()
    {
        Map<String, ConnStateListener> result = new LinkedHashMap<>();
        try
        {
            if (queueCapacity < 1 || queueCapacity > QueuedListener.MAX_CAPACITY)
                throw new ConnStateConfigurationException(QUEUE_CAPACITY, String.valueOf(queueCapacity), "must be between 1 and " + QueuedListener.MAX_CAPACITY);
            Map<String, ConnStateSinkProvider> providers = providers();
            String known = String.join(", ", providers.keySet());
            Set<String> sinkNames = names(SINKS, sinks);
            for (String sink : sinkNames)
            {
                if (!providers.containsKey(sink))
                    throw new ConnStateConfigurationException(SINKS, sinks, "unknown sink '" + sink + "' (known: " + known + ")");
            }
            List<String> classNames = List.copyOf(names(LISTENERS, listeners));
            // Counting only is a configuration of its own: the gauges and totals are read through
            // JMX or the connection table. Without either, nothing at all would be reported.
            if (sinkNames.isEmpty() && classNames.isEmpty() && statusPath.isEmpty() && !hasJmx())
                throw new ConnStateConfigurationException(SINKS, sinks == null ? "" : sinks,
                    "no sink and no listener (" + LISTENERS + "), nothing would be reported; to count only, enable the jmx module or set " +
                        STATUS_PATH + " (known sinks: " + known + ")");
            // The jsonl file last: a bad setting elsewhere must not leave a file behind.
            for (String sink : sinkNames)
            {
                if (!sink.equals(SINK_JSONL))
                    result.put(sink, providers.get(sink).newSink(new Settings(sink)));
            }
            for (String className : classNames)
            {
                ConnStateListener listener = listener(className);
                String name = listener.getClass().getSimpleName();
                String unique = name;
                for (int i = 2; result.containsKey(unique); i++)
                    unique = name + i;
                result.put(unique, listener);
            }
            if (sinkNames.contains(SINK_JSONL))
                result.put(SINK_JSONL, providers.get(SINK_JSONL).newSink(new Settings(SINK_JSONL)));
            return result;
        }
        catch (RuntimeException | Error x)
        {
            for (ConnStateListener made : result.values())
                closeQuietly(made);
            throw x;
        }
    }

    /**
     * The sink providers on the module's class path ({@code lib/connstate/}), the built-in
     * ones among them, by name.
     */
    private static Map<String, ConnStateSinkProvider> providers()
    {
        Map<String, ConnStateSinkProvider> providers = new LinkedHashMap<>();
        try
        {
            for (ConnStateSinkProvider provider : ServiceLoader.load(ConnStateSinkProvider.class, ConnStateModule.class.getClassLoader()))
            {
                String name = provider.name();
                if (name == null || !SINK_NAME.matcher(name).matches())
                    throw new ConnStateConfigurationException(SINKS, String.valueOf(name),
                        "sink provider " + provider.getClass().getName() + " has an invalid name (lower-case letters, digits, - and _)");
                ConnStateSinkProvider other = providers.putIfAbsent(name, provider);
                if (other != null && other.getClass() != provider.getClass())
                    throw new ConnStateConfigurationException(SINKS, name,
                        "two sink providers have this name: " + other.getClass().getName() + " and " + provider.getClass().getName());
            }
        }
        catch (ServiceConfigurationError x)
        {
            throw new ConnStateConfigurationException(SINKS, "", "a sink provider in lib/connstate/ cannot be loaded: " + x.getMessage());
        }
        // A stable order for messages: the built-in sinks, then the others by name.
        Map<String, ConnStateSinkProvider> ordered = new LinkedHashMap<>();
        for (String builtIn : List.of(SINK_LOG, SINK_JSONL))
        {
            if (providers.containsKey(builtIn))
                ordered.put(builtIn, providers.remove(builtIn));
        }
        providers.keySet().stream().sorted().forEach(name -> ordered.put(name, providers.get(name)));
        return ordered;
    }

    /** A sink's own properties: set on this module, else Java system properties. */
    private final class Settings implements SinkSettings
    {
        private final String sink;

        private Settings(String sink)
        {
            this.sink = sink;
        }

        @Override
        public String sinkName()
        {
            return sink;
        }

        private String raw(String key)
        {
            String value = sinkProperties.get(sink + "." + key);
            return value != null ? value : System.getProperty(PREFIX + sink + "." + key);
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
            return new ConnStateConfigurationException(PREFIX + sink + "." + key, String.valueOf(raw(key) == null ? "" : raw(key)), problem);
        }
    }

    /** Splits a comma list, trimmed, without blanks; a name given twice is refused. */
    private static Set<String> names(String property, String list)
    {
        Set<String> names = new LinkedHashSet<>();
        if (list == null)
            return names;
        for (String name : list.split(","))
        {
            String trimmed = name.trim();
            if (trimmed.isEmpty())
                continue;
            if (!names.add(trimmed))
                throw new ConnStateConfigurationException(property, list, "'" + trimmed + "' is listed twice");
        }
        return names;
    }

    /** Wraps the server's handler with the connection table, if a path is set; once. */
    private void installStatusHandler()
    {
        if (statusPath.isEmpty() || (statusHandler != null && server.getDescendant(ConnStateStatusHandler.class) == statusHandler))
            return;
        ConnStateStatusHandler handler;
        try
        {
            if (!statusPath.startsWith("/"))
                throw new ConnStateConfigurationException(STATUS_PATH, statusPath, "must start with '/', e.g. /connstate");
            try
            {
                handler = new ConnStateStatusHandler(tracker, statusPath, statusAllow);
            }
            catch (IllegalArgumentException x)
            {
                throw new ConnStateConfigurationException(STATUS_ALLOW, statusAllow, x.getMessage() + " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9)");
            }
        }
        catch (ConnStateConfigurationException x)
        {
            LOG.error("Not starting: {}", x.getMessage());
            throw x;
        }
        server.insertHandler(handler);
        statusHandler = handler;
        LOG.info("Serving the connection table at {} to loopback{}", statusPath, statusAllow.isEmpty() ? "" : " and " + statusAllow);
    }

    /** Whether the server exports its beans through JMX (the jmx module's MBeanContainer, which this jar does not depend on). */
    private boolean hasJmx()
    {
        for (Object bean : server.getBeans())
        {
            for (Class<?> type = bean.getClass(); type != null; type = type.getSuperclass())
            {
                if (type.getName().equals("org.eclipse.jetty.jmx.MBeanContainer"))
                    return true;
            }
        }
        return false;
    }

    private String describe(Map<String, ConnStateListener> listeners)
    {
        Set<String> sinkNames = names(SINKS, sinks);
        List<String> names = new ArrayList<>();
        // Sinks say what they write to; user listeners are named by their class.
        listeners.forEach((name, listener) -> names.add(sinkNames.contains(name) ? listener.toString() : listener.getClass().getName()));
        return String.join(", ", names);
    }

    private static String describe(Throwable x)
    {
        String message = x.getMessage();
        String type = x.getClass().getSimpleName();
        return message == null ? type : type + ": " + message;
    }

    private ConnStateListener listener(String className)
    {
        Class<?> type;
        try
        {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader == null)
                loader = ConnStateModule.class.getClassLoader();
            try
            {
                type = Class.forName(className, false, loader);
            }
            catch (ClassNotFoundException x)
            {
                type = Class.forName(className, false, ConnStateModule.class.getClassLoader());
            }
        }
        catch (ClassNotFoundException | LinkageError x)
        {
            throw new ConnStateConfigurationException(LISTENERS, listeners,
                "class '" + className + "' not found on the server class path (put its jar in $JETTY_BASE/lib/connstate/)" +
                    (x instanceof LinkageError ? ": " + describe(x) : ""));
        }
        if (!ConnStateListener.class.isAssignableFrom(type))
            throw new ConnStateConfigurationException(LISTENERS, listeners,
                "class '" + className + "' does not implement " + ConnStateListener.class.getName());
        if (type.isInterface() || Modifier.isAbstract(type.getModifiers()))
            throw new ConnStateConfigurationException(LISTENERS, listeners, "class '" + className + "' is abstract");
        Constructor<?> constructor;
        try
        {
            constructor = type.getConstructor();
        }
        catch (NoSuchMethodException x)
        {
            throw new ConnStateConfigurationException(LISTENERS, listeners, "class '" + className + "' has no public no-argument constructor");
        }
        try
        {
            return (ConnStateListener)constructor.newInstance();
        }
        catch (InvocationTargetException x)
        {
            throw new ConnStateConfigurationException(LISTENERS, listeners, "the constructor of '" + className + "' threw " + describe(x.getCause()));
        }
        catch (ReflectiveOperationException | LinkageError x)
        {
            throw new ConnStateConfigurationException(LISTENERS, listeners, "cannot make a '" + className + "': " + describe(x));
        }
    }

    private static void closeQuietly(ConnStateListener listener)
    {
        if (listener instanceof Closeable closeable)
        {
            try
            {
                closeable.close();
            }
            catch (IOException | RuntimeException x)
            {
                LOG.debug("Could not close {}", listener, x);
            }
        }
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,sinks=%s,listeners=%s}", getClass().getSimpleName(), hashCode(), getState(), sinks, listeners);
    }
}
