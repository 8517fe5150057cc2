package dev.connstate.otel;

import java.util.Locale;

import dev.connstate.jetty.ConnStateConfigurationException;
import dev.connstate.jetty.ConnStateTracker;

/**
 * Turns the OpenTelemetry instruments on from the module's property {@value #PROPERTY}, on
 * {@code GlobalOpenTelemetry}; when it is off, not one OpenTelemetry class is loaded (this class
 * names none, and reaches {@link ConnStateOtelMetrics} only when it is on).
 */
public final class OtelSwitch
{
    /** The module's property. */
    public static final String PROPERTY = "jetty.connstate.otel";
    /** Its default: off. */
    public static final String DEFAULT = "false";
    /** A class of each jar the OpenTelemetry API needs: opentelemetry-api, -context and -common. */
    private static final String[] API_CLASSES = {"io.opentelemetry.api.GlobalOpenTelemetry", "io.opentelemetry.context.Context", "io.opentelemetry.common.ComponentLoader"};
    static final String ABSENT = "the OpenTelemetry API is not on the server's class path: put opentelemetry-api, opentelemetry-context " +
        "and opentelemetry-common (1.68.0 or later) in $JETTY_BASE/lib/connstate/ and attach the OpenTelemetry Java agent " +
        "(java -javaagent:opentelemetry-javaagent.jar -jar $JETTY_HOME/start.jar), or turn " + PROPERTY + " off";

    private OtelSwitch()
    {
    }

    /**
     * Called once when the module starts, on the thread that starts it.
     *
     * @param tracker the module's tracker
     * @param value the property's value: {@code true}, or {@code false} (also blank or {@code null}), in any case
     * @return what to close when the module stops; {@code null} when off
     * @throws ConnStateConfigurationException naming the property and the value, if the value is
     * neither, or if it is {@code true} and the OpenTelemetry API is not on the class path
     */
    public static AutoCloseable apply(ConnStateTracker tracker, String value)
    {
        String flag = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (flag.isEmpty() || flag.equals("false"))
            return null;
        if (!flag.equals("true"))
            throw new ConnStateConfigurationException(PROPERTY, value, "expected true or false");
        if (!apiPresent())
            throw new ConnStateConfigurationException(PROPERTY, value, ABSENT);
        try
        {
            return ConnStateOtelMetrics.registerGlobal(tracker);
        }
        catch (LinkageError x)
        {
            // An API jar older than the one this was built with lacks a method it calls.
            throw new ConnStateConfigurationException(PROPERTY, value, "the OpenTelemetry API on the server's class path does not fit (" + x + "): use 1.68.0 or later");
        }
    }

    private static boolean apiPresent()
    {
        ClassLoader loader = OtelSwitch.class.getClassLoader();
        for (String name : API_CLASSES)
        {
            try
            {
                Class.forName(name, false, loader);
            }
            catch (ClassNotFoundException | LinkageError x)
            {
                return false;
            }
        }
        return true;
    }
}
