package dev.connstate.config;

import dev.connstate.sink.OneLine;

/**
 * A {@code jetty.connstate.*} setting that cannot work: thrown when the settings are checked or a
 * tracker is assembled ({@link ModuleSettings}, {@link TrackerAssembly}), so nothing starts; Spring
 * Boot and Dropwizard show it under their own names for the property.
 *
 * <p>The message is the whole story, one line, {@code property=value: what is wrong}; the
 * exception has no stack trace and no cause, so that what Jetty prints when it fails to start
 * is that line and not a page of frames.</p>
 */
public class ConnStateConfigurationException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final String property;
    private final String value;
    private final String problem;

    /**
     * @param property the property's name, e.g. {@code jetty.connstate.sinks}
     * @param value the value it was given
     * @param problem what is wrong with the value
     */
    public ConnStateConfigurationException(String property, String value, String problem)
    {
        // A value set in Jetty XML may span lines (the text of a <Set>), and a listener's
        // exception message may hold anything: escaped, the message stays one line.
        super(property + "=" + OneLine.of(value) + ": " + OneLine.of(problem));
        this.property = property;
        this.value = value;
        this.problem = OneLine.of(problem);
    }

    /**
     * @return the property's name
     */
    public String getProperty()
    {
        return property;
    }

    /**
     * @return the value it was given
     */
    public String getValue()
    {
        return value;
    }

    /**
     * @return what is wrong with the value, one line: the message without the property and the
     * value, for a framework that names them its own way (Spring Boot's failure report, Dropwizard's
     * validation)
     */
    public String getProblem()
    {
        return problem;
    }

    @Override
    public synchronized Throwable fillInStackTrace()
    {
        // The message names the property and the value: the frames would only hide it.
        return this;
    }

    @Override
    public String toString()
    {
        // Printed by Jetty and by Throwable.printStackTrace(): the line alone, easy to grep.
        return getClass().getSimpleName() + ": " + getMessage();
    }
}
