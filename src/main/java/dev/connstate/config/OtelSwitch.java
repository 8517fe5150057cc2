package dev.connstate.config;

import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.otel.ConnStateOtelMetrics;

/**
 * Turns the OpenTelemetry instruments on from the module's property {@value #PROPERTY}, on
 * {@code GlobalOpenTelemetry}; when it is off, not one OpenTelemetry class is loaded (this class
 * names none, and reaches {@link ConnStateOtelMetrics} only when it is on).
 */
public final class OtelSwitch
{
    /** The module's property. */
    public static final String PROPERTY = "jetty.connstate.otel";
    /**
     * The oldest OpenTelemetry API this works with (the histograms' bucket advice came in 1.32.0):
     * the code compiles against it, and {@code OtelModuleIT} runs it through the newest Java agent.
     */
    public static final String OLDEST_API = "1.32.0";
    /**
     * A class of each jar every OpenTelemetry API version needs: opentelemetry-api and -context
     * (recent ones also need opentelemetry-common: without it, registering fails as not fitting).
     */
    private static final String[] API_CLASSES = {"io.opentelemetry.api.GlobalOpenTelemetry", "io.opentelemetry.context.Context"};
    static final String ABSENT = "the OpenTelemetry API is not on the server's class path: add the connstate-otel module " +
        "(java -jar $JETTY_HOME/start.jar --add-modules=connstate-otel fetches it into $JETTY_BASE/lib/connstate/otel/) and attach the " +
        "OpenTelemetry Java agent (java -javaagent:opentelemetry-javaagent.jar -jar $JETTY_HOME/start.jar), or turn " + PROPERTY + " off";

    private OtelSwitch()
    {
    }

    /**
     * Called once when the module starts, on the thread that starts it.
     *
     * @param tracker the module's tracker
     * @param on the property's value, as the module's settings read it (they refuse anything but
     * {@code true} or {@code false})
     * @return what to close when the module stops; {@code null} when off
     * @throws ConnStateConfigurationException naming the property and its value, if it is on and
     * the OpenTelemetry API is not on the class path, or does not fit
     */
    public static AutoCloseable apply(ConnStateTracker tracker, boolean on)
    {
        if (!on)
            return null;
        String value = "true";
        if (!apiPresent())
            throw new ConnStateConfigurationException(PROPERTY, value, ABSENT);
        try
        {
            return ConnStateOtelMetrics.registerGlobal(tracker);
        }
        catch (LinkageError x)
        {
            // An API jar older than the one this was built with lacks a method it calls.
            throw new ConnStateConfigurationException(PROPERTY, value, "the OpenTelemetry API on the server's class path does not fit (" + x + "): use " + OLDEST_API + " or later");
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
