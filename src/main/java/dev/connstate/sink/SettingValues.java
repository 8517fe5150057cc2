package dev.connstate.sink;

/**
 * Reads a setting's text as a value of its kind: one parser per kind, so that a boolean or a
 * number is taken, and refused, with the same words whichever setting or sink it belongs to.
 *
 * <p>Each parser throws an {@link IllegalArgumentException} whose message is the problem alone
 * (e.g. {@code must be true or false}); the caller names the property and the value
 * ({@link SinkSettings#invalid(String, String)}, the module's configuration exception).</p>
 */
public final class SettingValues
{
    private SettingValues()
    {
    }

    /**
     * As Jetty's own boolean properties: {@code true} or {@code false} in any case, trimmed,
     * nothing else (a typo must not turn a feature off).
     *
     * @param value the setting's text
     * @return the boolean
     * @throws IllegalArgumentException {@code must be true or false}
     */
    public static boolean bool(String value)
    {
        String trimmed = value.trim();
        if (trimmed.equalsIgnoreCase("true"))
            return true;
        if (trimmed.equalsIgnoreCase("false"))
            return false;
        throw new IllegalArgumentException("must be true or false");
    }

    /**
     * A whole number, trimmed; its range is the caller's to check.
     *
     * @param value the setting's text
     * @param unit what it counts, for the message ({@code milliseconds}, {@code days}), or
     * {@code null}
     * @return the number
     * @throws IllegalArgumentException {@code not a number} (of the unit)
     */
    public static long number(String value, String unit)
    {
        try
        {
            return Long.parseLong(value.trim());
        }
        catch (NumberFormatException x)
        {
            throw new IllegalArgumentException(unit == null ? "not a number" : "not a number of " + unit);
        }
    }
}
