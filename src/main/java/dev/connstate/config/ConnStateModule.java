package dev.connstate.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import dev.connstate.ConnStateListener;
import dev.connstate.sink.LogSink;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.sink.SettingValues;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code connstate} Jetty module as a bean: holds the {@code jetty.connstate.*} properties
 * that Jetty XML sets, and runs a {@link ConnStateTracker} for every connector of the server, with
 * the sinks and listeners they name, from its start to its stop.
 *
 * <p>{@code etc/jetty-connstate.xml} creates it, sets the properties given and adds it to the
 * {@link Server}; a property not set keeps its default ({@link ModuleSettings#defaults()}).
 * Nothing is checked when a property is set. When the server starts, the settings are read and
 * checked, once ({@link ModuleSettings}), and a {@link TrackerAssembly} sets the drain, the
 * keep-alive and request header timeouts and the caps of connections per client, and puts the
 * connection table in front of the handler; when this bean starts, the assembly adds the sinks
 * and listeners (queued, each on its own thread) and the tracker starts. A setting that cannot
 * work throws a {@link ConnStateConfigurationException}, one line naming the property and the
 * value, logged at ERROR, and the server does not start.</p>
 *
 * <p>The tracker starts before the connectors (Jetty starts a server's beans first, its
 * connectors last) and attaches to all of them, whatever the order of the modules.</p>
 */
@ManagedObject("The connstate module: a connection state tracker and its sinks")
public class ConnStateModule extends ContainerLifeCycle
{
    /** The connstate-prometheus module's bean, named: its class links Micrometer. */
    private static final String PROMETHEUS_MODULE = "dev.connstate.config.ConnStatePrometheusModule";

    private static final Logger LOG = LoggerFactory.getLogger(ConnStateModule.class);

    private final Server server;
    private final ConnStateTracker tracker;
    /** The properties set, by their whole name ({@code jetty.connstate.NAME.KEY} for a sink's own); the others keep their defaults. */
    private final Map<String, String> properties = new LinkedHashMap<>();
    private String baseDirectory;
    /** This start's assembly: made when the server starts (or when this starts alone), dropped when this stops. */
    private TrackerAssembly assembly;

    /**
     * @param server the server whose connectors to track; add this module to it as a bean
     */
    public ConnStateModule(@Name("server") Server server)
    {
        this.server = server;
        // Registered before the tracker makes its own listener, which takes Jetty's GracefulHandler
        // out of the chain if the drain is on: the drain's setting must be in place by then
        // (ConnStateModuleTest.theDrainSettingsReachTheTrackerBeforeTheHandlersAreLookedAt fails the other way round).
        server.addEventListener(new LifeCycle.Listener()
        {
            @Override
            public void lifeCycleStarting(LifeCycle event)
            {
                // Before anything of the server starts: a bad setting stops it here, and the
                // table goes in after all Jetty XML ran, before any handler starts.
                assembly = assemble();
                assembly.beforeHandlersStart(server);
            }
        });
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
        return value(ModuleSettings.SINKS);
    }

    /**
     * @param sinks a comma-separated list of sink names ({@code log}, {@code jsonl},
     * {@code connlog}, or a provider's); blank or {@code null} for none (then
     * {@link #setListeners(String)} must name a listener, or the counts must be readable through
     * JMX or the connection table)
     */
    public void setSinks(String sinks)
    {
        properties.put(ModuleSettings.SINKS, sinks == null ? "" : sinks);
    }

    @ManagedAttribute("The logger of the log sink (jetty.connstate.log.logger)")
    public String getLogLogger()
    {
        return value(ModuleSettings.LOG_LOGGER);
    }

    /**
     * @param logLogger the SLF4J logger name of the {@code log} sink; {@code null} for the default
     */
    public void setLogLogger(String logLogger)
    {
        setProperty(ModuleSettings.LOG_LOGGER, logLogger);
    }

    @ManagedAttribute("The line template of the log sink (jetty.connstate.log.format)")
    public String getLogFormat()
    {
        return value(ModuleSettings.LOG_FORMAT);
    }

    /**
     * @param logFormat the line template of the {@code log} sink (see {@link LogSink}); {@code null} for the default
     */
    public void setLogFormat(String logFormat)
    {
        setProperty(ModuleSettings.LOG_FORMAT, logFormat);
    }

    @ManagedAttribute("The file of the jsonl sink, - for standard output (jetty.connstate.jsonl.file)")
    public String getJsonlFile()
    {
        return value(ModuleSettings.JSONL_FILE);
    }

    /**
     * @param jsonlFile the file the {@code jsonl} sink appends to, relative to the
     * {@linkplain #setBaseDirectory(String) base directory}, or {@code -} for standard output;
     * missing parent directories are created; {@code yyyy_mm_dd} in its name makes a file a day
     * (see {@link dev.connstate.sink.JsonLinesSink}; the other {@code jetty.connstate.jsonl.*}
     * properties through {@link #setProperty(String, String)}); {@code null} for the default
     */
    public void setJsonlFile(String jsonlFile)
    {
        setProperty(ModuleSettings.JSONL_FILE, jsonlFile);
    }

    @ManagedAttribute("The file of the connlog sink, - for standard output (jetty.connstate.connlog.file)")
    public String getConnlogFile()
    {
        return value(ModuleSettings.CONNLOG_FILE);
    }

    /**
     * @param connlogFile the file the {@code connlog} sink appends to, relative to the
     * {@linkplain #setBaseDirectory(String) base directory}, or {@code -} for standard output;
     * missing parent directories are created; {@code yyyy_mm_dd} in its name makes a file a day
     * (see {@link dev.connstate.sink.ConnLogSink}; the other {@code jetty.connstate.connlog.*}
     * properties through {@link #setProperty(String, String)}); {@code null} for the default
     */
    public void setConnlogFile(String connlogFile)
    {
        setProperty(ModuleSettings.CONNLOG_FILE, connlogFile);
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
        setProperty(ModuleSettings.PREFIX + key, value);
    }

    /**
     * Sets a property by its whole name, as text, as start.jar gives it: a value that cannot work
     * (a queue capacity that is not a number) is refused with the module's one-line error when the
     * server starts, rather than by Jetty XML's conversion.
     *
     * @param name the property, e.g. {@value ModuleSettings#QUEUE_CAPACITY}
     * @param value the value; {@code null} unsets it: it takes its default
     */
    public void setProperty(@Name("name") String name, @Name("value") String value)
    {
        if (value == null)
            properties.remove(name);
        else
            properties.put(name, value);
    }

    @ManagedAttribute("The path of the live connection table, blank for none (jetty.connstate.status.path)")
    public String getStatusPath()
    {
        return value(ModuleSettings.STATUS_PATH);
    }

    /**
     * @param statusPath the exact path that serves the live connection table as JSON, e.g.
     * {@code /connstate}; blank (the default) for none. It is taken when the server starts.
     */
    public void setStatusPath(String statusPath)
    {
        properties.put(ModuleSettings.STATUS_PATH, statusPath == null ? "" : statusPath.trim());
    }

    @ManagedAttribute("Addresses besides loopback allowed to read the connection table (jetty.connstate.status.allow)")
    public String getStatusAllow()
    {
        return value(ModuleSettings.STATUS_ALLOW);
    }

    /**
     * @param statusAllow addresses, CIDR ranges ({@code 10.0.0.0/8}) or address ranges
     * ({@code 10.0.0.1-10.0.0.9}), comma-separated, that may read the connection table besides
     * loopback clients
     */
    public void setStatusAllow(String statusAllow)
    {
        properties.put(ModuleSettings.STATUS_ALLOW, statusAllow == null ? "" : statusAllow.trim());
    }

    @ManagedAttribute("How many rows each state of the connection table shows at most (jetty.connstate.status.maxRows)")
    public String getStatusMaxRows()
    {
        return value(ModuleSettings.STATUS_MAX_ROWS);
    }

    /**
     * @param statusMaxRows how many rows each state of the connection table shows at most, 1 to
     * 1000000 (above it, those longest in the state); checked when the server starts; {@code null}
     * for the default, 1000
     */
    public void setStatusMaxRows(String statusMaxRows)
    {
        setProperty(ModuleSettings.STATUS_MAX_ROWS, statusMaxRows);
    }

    @ManagedAttribute("Class names of the user listeners (jetty.connstate.listeners)")
    public String getListeners()
    {
        return value(ModuleSettings.LISTENERS);
    }

    /**
     * @param listeners a comma-separated list of class names of {@link ConnStateListener}
     * implementations with a public no-argument constructor, on the server's class path; each
     * runs queued, on its own thread; blank or {@code null} for none
     */
    public void setListeners(String listeners)
    {
        properties.put(ModuleSettings.LISTENERS, listeners == null ? "" : listeners);
    }

    @ManagedAttribute("The directory relative file names are resolved against (jetty.base)")
    public String getBaseDirectory()
    {
        return baseDirectory;
    }

    /**
     * @param baseDirectory the directory a relative {@code jsonl} or {@code connlog} file is resolved against
     * ({@code jetty.base}); {@code null} for the working directory
     */
    public void setBaseDirectory(String baseDirectory)
    {
        this.baseDirectory = baseDirectory;
    }

    @ManagedAttribute("The queue capacity of each sink and listener")
    public int getQueueCapacity()
    {
        try
        {
            return (int)SettingValues.number(value(ModuleSettings.QUEUE_CAPACITY), null);
        }
        catch (IllegalArgumentException x)
        {
            // Set as text (setProperty) and not a number: the start refuses it.
            return 0;
        }
    }

    /**
     * @param queueCapacity how many events each sink or listener may have waiting (1 to
     * {@link QueuedListener#MAX_CAPACITY}); more are dropped and counted
     */
    public void setQueueCapacity(int queueCapacity)
    {
        properties.put(ModuleSettings.QUEUE_CAPACITY, Integer.toString(queueCapacity));
    }

    /**
     * @return the configuration the properties set make, checked
     * @throws ConnStateConfigurationException naming the first property whose value cannot work
     */
    public ModuleSettings settings()
    {
        return ModuleSettings.of(properties, baseDirectory);
    }

    /** An assembly of the settings, read and checked now. */
    private TrackerAssembly assemble()
    {
        return new TrackerAssembly(tracker, refusalLogged(this::settings));
    }

    @Override
    protected void doStart() throws Exception
    {
        // Made when the server started; made now if this starts alone (again through JMX).
        TrackerAssembly started = assembly != null ? assembly : assemble();
        assembly = null;
        // The counts of a module without sinks can be read through JMX or the connstate-prometheus
        // module, besides what the settings name.
        List<String> readers = new ArrayList<>();
        if (hasBean("org.eclipse.jetty.jmx.MBeanContainer"))
            readers.add("JMX");
        if (hasBean(PROMETHEUS_MODULE))
            readers.add("Prometheus");
        refusalLogged(() ->
        {
            started.addListeners(List.of(), readers);
            return started;
        });
        try
        {
            // Starts the tracker, which starts the queues and attaches to every connector.
            super.doStart();
        }
        catch (Throwable x)
        {
            started.close(true);
            throw x;
        }
        assembly = started;
        started.logReporting();
    }

    @Override
    protected void doStop() throws Exception
    {
        // The tracker reports what is still open as closed, the queues deliver and close their sinks.
        super.doStop();
        if (assembly != null)
            assembly.close(false);
        assembly = null;
    }

    /** Runs a step of the start; a setting it refuses is logged (the line to look for in the server's log) and thrown. */
    static <T> T refusalLogged(Supplier<T> step)
    {
        try
        {
            return step.get();
        }
        catch (ConnStateConfigurationException x)
        {
            // Jetty prints the exception on stderr too; the log has the line.
            LOG.error("Not starting: {}", x.getMessage());
            throw x;
        }
    }

    /** A property as set, or its default. */
    private String value(String property)
    {
        String value = properties.get(property);
        return value != null ? value : ModuleSettings.defaultValue(property);
    }

    /**
     * Whether the server has a bean of the class named (or a subclass): by name, so that neither
     * the jmx module's MBeanContainer, which this jar does not depend on, nor the
     * connstate-prometheus module's bean, which links Micrometer, is loaded here.
     */
    private boolean hasBean(String className)
    {
        for (Object bean : server.getBeans())
        {
            for (Class<?> type = bean.getClass(); type != null; type = type.getSuperclass())
            {
                if (type.getName().equals(className))
                    return true;
            }
        }
        return false;
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,sinks=%s,listeners=%s}", getClass().getSimpleName(), hashCode(), getState(), getSinks(), getListeners());
    }
}
