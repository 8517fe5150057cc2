package dev.connstate.jetty;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.connstate.ConnStateListener;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
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

    /** Property: the sinks to enable, a comma-separated list of {@link #SINK_NAMES}. */
    public static final String SINKS = "jetty.connstate.sinks";
    /** Property: the SLF4J logger of the {@code log} sink. */
    public static final String LOG_LOGGER = "jetty.connstate.log.logger";
    /** Property: the line template of the {@code log} sink. */
    public static final String LOG_FORMAT = "jetty.connstate.log.format";
    /** Property: the file of the {@code jsonl} sink, {@code -} for standard output. */
    public static final String JSONL_FILE = "jetty.connstate.jsonl.file";
    /** Property: class names of user listeners, comma-separated. */
    public static final String LISTENERS = "jetty.connstate.listeners";

    /** Sink: one log line per transition. */
    public static final String SINK_LOG = "log";
    /** Sink: one JSON object per line and per transition. */
    public static final String SINK_JSONL = "jsonl";
    /** The sinks this module knows. */
    public static final List<String> SINK_NAMES = List.of(SINK_LOG, SINK_JSONL);

    /** Default of {@value #SINKS}. */
    public static final String DEFAULT_SINKS = SINK_LOG;
    /** Default of {@value #JSONL_FILE}, relative to {@code jetty.base}. */
    public static final String DEFAULT_JSONL_FILE = "logs/connstate.jsonl";

    private final ConnStateTracker tracker;
    private final List<ConnStateListener> added = new ArrayList<>();
    private String sinks = DEFAULT_SINKS;
    private String logLogger = LogSink.DEFAULT_LOGGER;
    private String logFormat = LogSink.DEFAULT_FORMAT;
    private String jsonlFile = DEFAULT_JSONL_FILE;
    private String listeners = "";
    private String baseDirectory;
    private int queueCapacity = ConnStateTracker.DEFAULT_QUEUE_CAPACITY;

    /**
     * @param server the server whose connectors to track; add this module to it as a bean
     */
    public ConnStateModule(@Name("server") Server server)
    {
        this.tracker = new ConnStateTracker(server);
        addBean(tracker, true);
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
        return logLogger;
    }

    /**
     * @param logLogger the SLF4J logger name of the {@code log} sink
     */
    public void setLogLogger(String logLogger)
    {
        this.logLogger = logLogger;
    }

    @ManagedAttribute("The line template of the log sink (jetty.connstate.log.format)")
    public String getLogFormat()
    {
        return logFormat;
    }

    /**
     * @param logFormat the line template of the {@code log} sink (see {@link LogSink})
     */
    public void setLogFormat(String logFormat)
    {
        this.logFormat = logFormat;
    }

    @ManagedAttribute("The file of the jsonl sink, - for standard output (jetty.connstate.jsonl.file)")
    public String getJsonlFile()
    {
        return jsonlFile;
    }

    /**
     * @param jsonlFile the file the {@code jsonl} sink appends to, relative to the
     * {@linkplain #setBaseDirectory(String) base directory}, or {@code -} for standard output;
     * missing parent directories are created
     */
    public void setJsonlFile(String jsonlFile)
    {
        this.jsonlFile = jsonlFile;
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
     * Checks every setting and makes the sinks and listeners they name, in order.
     *
     * @return the listeners to add, by name (a sink's name, a listener's simple class name)
     * @throws ConnStateConfigurationException naming the first setting that cannot work; nothing
     * made before it is left open
     */
    Map<String, ConnStateListener> resolve()
    {
        Map<String, ConnStateListener> result = new java.util.LinkedHashMap<>();
        try
        {
            if (queueCapacity < 1)
                throw new ConnStateConfigurationException("queueCapacity", String.valueOf(queueCapacity), "must be at least 1");
            Set<String> sinkNames = names(SINKS, sinks);
            for (String sink : sinkNames)
            {
                if (!SINK_NAMES.contains(sink))
                    throw new ConnStateConfigurationException(SINKS, sinks, "unknown sink '" + sink + "' (known: " + String.join(", ", SINK_NAMES) + ")");
            }
            List<String> classNames = List.copyOf(names(LISTENERS, listeners));
            if (sinkNames.isEmpty() && classNames.isEmpty())
                throw new ConnStateConfigurationException(SINKS, sinks == null ? "" : sinks,
                    "no sink and no listener (" + LISTENERS + "), nothing would be reported (known sinks: " + String.join(", ", SINK_NAMES) + ")");
            // Cheap checks first, the file last: a bad format must not leave a file behind.
            if (sinkNames.contains(SINK_LOG))
                result.put(SINK_LOG, logSink());
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
                result.put(SINK_JSONL, jsonlSink());
            return result;
        }
        catch (RuntimeException | Error x)
        {
            for (ConnStateListener made : result.values())
                closeQuietly(made);
            throw x;
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

    private LogSink logSink()
    {
        if (logLogger == null || logLogger.isBlank())
            throw new ConnStateConfigurationException(LOG_LOGGER, String.valueOf(logLogger), "the logger name must not be empty");
        try
        {
            return new LogSink(logLogger.trim(), logFormat);
        }
        catch (IllegalArgumentException x)
        {
            throw new ConnStateConfigurationException(LOG_FORMAT, String.valueOf(logFormat), x.getMessage());
        }
    }

    private JsonLinesSink jsonlSink()
    {
        String value = jsonlFile == null ? "" : jsonlFile.trim();
        if (value.isEmpty())
            throw new ConnStateConfigurationException(JSONL_FILE, value, "a file name is required (or - for standard output)");
        if (JsonLinesSink.STDOUT.equals(value))
            return new JsonLinesSink(JsonLinesSink.STDOUT);
        Path file;
        try
        {
            file = Path.of(value);
            if (!file.isAbsolute() && baseDirectory != null && !baseDirectory.isBlank())
                file = Path.of(baseDirectory).resolve(file);
            file = file.toAbsolutePath().normalize();
        }
        catch (InvalidPathException x)
        {
            throw new ConnStateConfigurationException(JSONL_FILE, value, "not a valid path: " + x.getMessage());
        }
        try
        {
            Path parent = file.getParent();
            if (parent != null && !Files.isDirectory(parent))
                Files.createDirectories(parent);
            return new JsonLinesSink(file);
        }
        catch (FileAlreadyExistsException x)
        {
            // Files.createDirectories() met a file where a directory must be.
            throw new ConnStateConfigurationException(JSONL_FILE, value, "cannot append to " + file + ": " + x.getFile() + " is not a directory");
        }
        catch (IOException | UncheckedIOException x)
        {
            Throwable reason = x instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : x;
            throw new ConnStateConfigurationException(JSONL_FILE, value, "cannot append to " + file + ": " + describe(reason));
        }
    }

    private static String describe(Map<String, ConnStateListener> listeners)
    {
        List<String> names = new ArrayList<>();
        for (ConnStateListener listener : listeners.values())
        {
            boolean sink = listener instanceof LogSink || listener instanceof JsonLinesSink;
            names.add(sink ? listener.toString() : listener.getClass().getName());
        }
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
