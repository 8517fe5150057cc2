package dev.connstate.config;

import java.io.Closeable;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.regex.Pattern;

import dev.connstate.ConnStateListener;
import dev.connstate.sink.BuiltInSinks;
import dev.connstate.sink.ConnStateSinkProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the listeners that a {@link ModuleSettings} names, all of them or none: its sinks through
 * the {@link ConnStateSinkProvider}s on the module's class path, its user listeners by class name.
 *
 * <p>Called each time the module starts, on the thread that starts the server, and by the Spring
 * Boot auto-configuration when it attaches its tracker. Whatever cannot be made throws a
 * {@link ConnStateConfigurationException} naming the property and the value, after closing what
 * was already made.</p>
 */
public final class ListenerFactory
{
    private static final Logger LOG = LoggerFactory.getLogger(ListenerFactory.class);
    private static final Pattern SINK_NAME = Pattern.compile("[a-z0-9_-]+");

    private ListenerFactory()
    {
    }

    /**
     * Makes every sink and listener of the settings.
     *
     * @param settings the module's configuration
     * @param jmx whether the server exports its beans through JMX, where the counts of a module
     * without sinks and listeners can be read (or, for Spring Boot, whether they can be read elsewhere)
     * @return the listeners to add, by name (a sink's name, a listener's simple class name, made
     * unique with a number), sinks before listeners except the {@code jsonl} file, made last
     * @throws ConnStateConfigurationException naming the first setting that cannot work; nothing
     * made before it is left open
     */
    public static Map<String, ConnStateListener> make(ModuleSettings settings, boolean jmx)
    {
        Map<String, ConnStateListener> result = new LinkedHashMap<>();
        try
        {
            Map<String, ConnStateSinkProvider> providers = providers();
            String known = String.join(", ", providers.keySet());
            for (String sink : settings.sinks())
            {
                if (!providers.containsKey(sink))
                    throw settings.invalid(ModuleSettings.SINKS, "unknown sink '" + sink + "' (known: " + known + ")");
            }
            // Counting only is a configuration of its own: the gauges and totals are read through
            // JMX, the connection table, Prometheus or OpenTelemetry. Without any, nothing would be reported.
            if (settings.sinks().isEmpty() && settings.listeners().isEmpty() && settings.statusPath().isEmpty() && !settings.otel() && !jmx)
                throw settings.invalid(ModuleSettings.SINKS,
                    "no sink and no listener (" + ModuleSettings.LISTENERS + "), nothing would be reported; to count only, enable the jmx or connstate-prometheus module or set " +
                        ModuleSettings.STATUS_PATH + " or " + ModuleSettings.OTEL + "=true (known sinks: " + known + ")");
            // The files last: a bad setting elsewhere must not leave a file behind.
            for (String sink : settings.sinks())
            {
                if (!(providers.get(sink) instanceof BuiltInSinks.FileSink))
                    result.put(sink, providers.get(sink).newSink(settings.sinkSettings(sink)));
            }
            for (String className : settings.listeners())
            {
                ConnStateListener listener = listener(settings, className);
                String name = listener.getClass().getSimpleName();
                String unique = name;
                for (int i = 2; result.containsKey(unique); i++)
                    unique = name + i;
                result.put(unique, listener);
            }
            for (String sink : settings.sinks())
            {
                if (providers.get(sink) instanceof BuiltInSinks.FileSink)
                    result.put(sink, providers.get(sink).newSink(settings.sinkSettings(sink)));
            }
            return result;
        }
        catch (RuntimeException | Error x)
        {
            for (ConnStateListener made : result.values())
                close(made);
            throw x;
        }
    }

    /**
     * The sink providers on the module's class path ({@code lib/connstate/}), the built-in
     * ones among them, by name: the built-in ones first, then the others by name, so that
     * messages list them in a stable order.
     */
    static Map<String, ConnStateSinkProvider> providers()
    {
        Map<String, ConnStateSinkProvider> providers = new LinkedHashMap<>();
        try
        {
            for (ConnStateSinkProvider provider : ServiceLoader.load(ConnStateSinkProvider.class, ListenerFactory.class.getClassLoader()))
            {
                String name = provider.name();
                if (name == null || !SINK_NAME.matcher(name).matches())
                    throw new ConnStateConfigurationException(ModuleSettings.SINKS, String.valueOf(name),
                        "sink provider " + provider.getClass().getName() + " has an invalid name (lower-case letters, digits, - and _)");
                ConnStateSinkProvider other = providers.putIfAbsent(name, provider);
                if (other != null && other.getClass() != provider.getClass())
                    throw new ConnStateConfigurationException(ModuleSettings.SINKS, name,
                        "two sink providers have this name: " + other.getClass().getName() + " and " + provider.getClass().getName());
            }
        }
        catch (ServiceConfigurationError x)
        {
            throw new ConnStateConfigurationException(ModuleSettings.SINKS, "", "a sink provider in lib/connstate/ cannot be loaded: " + x.getMessage());
        }
        Map<String, ConnStateSinkProvider> ordered = new LinkedHashMap<>();
        for (String builtIn : List.of(BuiltInSinks.Log.NAME, BuiltInSinks.JsonLines.NAME, BuiltInSinks.ConnLog.NAME))
        {
            if (providers.containsKey(builtIn))
                ordered.put(builtIn, providers.remove(builtIn));
        }
        providers.keySet().stream().sorted().forEach(name -> ordered.put(name, providers.get(name)));
        return ordered;
    }

    /** Makes a user listener: a public class with a public no-argument constructor. */
    private static ConnStateListener listener(ModuleSettings settings, String className)
    {
        Class<?> type;
        try
        {
            // The starting thread's context class loader first, then the module's own (lib/connstate/).
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader == null)
                loader = ListenerFactory.class.getClassLoader();
            try
            {
                type = Class.forName(className, false, loader);
            }
            catch (ClassNotFoundException x)
            {
                type = Class.forName(className, false, ListenerFactory.class.getClassLoader());
            }
        }
        catch (ClassNotFoundException | LinkageError x)
        {
            throw settings.invalid(ModuleSettings.LISTENERS,
                "class '" + className + "' not found on the server class path (put its jar in $JETTY_BASE/lib/connstate/)" +
                    (x instanceof LinkageError ? ": " + describe(x) : ""));
        }
        if (!ConnStateListener.class.isAssignableFrom(type))
            throw settings.invalid(ModuleSettings.LISTENERS, "class '" + className + "' does not implement " + ConnStateListener.class.getName());
        if (type.isInterface() || Modifier.isAbstract(type.getModifiers()))
            throw settings.invalid(ModuleSettings.LISTENERS, "class '" + className + "' is abstract");
        Constructor<?> constructor;
        try
        {
            constructor = type.getConstructor();
        }
        catch (NoSuchMethodException x)
        {
            throw settings.invalid(ModuleSettings.LISTENERS, "class '" + className + "' has no public no-argument constructor");
        }
        try
        {
            return (ConnStateListener)constructor.newInstance();
        }
        catch (InvocationTargetException x)
        {
            throw settings.invalid(ModuleSettings.LISTENERS, "the constructor of '" + className + "' threw " + describe(x.getCause()));
        }
        catch (ReflectiveOperationException | LinkageError x)
        {
            throw settings.invalid(ModuleSettings.LISTENERS, "cannot make a '" + className + "': " + describe(x));
        }
    }

    private static String describe(Throwable x)
    {
        String message = x.getMessage();
        String type = x.getClass().getSimpleName();
        return message == null ? type : type + ": " + message;
    }

    /**
     * Closes a listener this factory made that will not be used, if it is {@link Closeable};
     * a failure to close is only logged, at DEBUG.
     *
     * @param listener the listener
     */
    public static void close(ConnStateListener listener)
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
}
