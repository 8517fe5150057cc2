package dev.connstate.sink;

import java.nio.file.Path;

/**
 * The properties of one sink: {@code jetty.connstate.NAME.KEY}, as the module was given them
 * (start.d ini files, the command line, Jetty XML) or, failing that, as Java system properties.
 */
public interface SinkSettings
{
    /**
     * @return the sink's name, as in {@code jetty.connstate.sinks}
     */
    String sinkName();

    /**
     * @param key the key after {@code jetty.connstate.NAME.}
     * @param defaultValue what to use if it is not set
     * @return the trimmed value, or {@code defaultValue}
     */
    String get(String key, String defaultValue);

    /**
     * @param file a file name from a setting
     * @return the file, relative names resolved against {@code jetty.base}
     */
    Path resolve(String file);

    /**
     * @param key the key of the setting that cannot work
     * @param problem what is wrong, e.g. {@code "must be a number"}
     * @return an exception to throw whose one-line message names {@code jetty.connstate.NAME.KEY},
     * its value and the problem
     */
    RuntimeException invalid(String key, String problem);

    /**
     * @param key the key after {@code jetty.connstate.NAME.}
     * @param defaultValue what to use if it is not set
     * @return the value as a boolean ({@link SettingValues#bool(String)})
     * @throws RuntimeException from {@link #invalid(String, String)} if it is neither {@code true} nor {@code false}
     */
    default boolean getBoolean(String key, boolean defaultValue)
    {
        try
        {
            return SettingValues.bool(get(key, String.valueOf(defaultValue)));
        }
        catch (IllegalArgumentException x)
        {
            throw invalid(key, x.getMessage());
        }
    }

    /**
     * @param key the key after {@code jetty.connstate.NAME.}
     * @param defaultValue what to use if it is not set
     * @param unit what it counts, for the message ({@code days}), or {@code null}
     * @return the value as a whole number ({@link SettingValues#number(String, String)}); its range is the caller's to check
     * @throws RuntimeException from {@link #invalid(String, String)} if it is not a number
     */
    default long getNumber(String key, long defaultValue, String unit)
    {
        try
        {
            return SettingValues.number(get(key, String.valueOf(defaultValue)), unit);
        }
        catch (IllegalArgumentException x)
        {
            throw invalid(key, x.getMessage());
        }
    }
}
