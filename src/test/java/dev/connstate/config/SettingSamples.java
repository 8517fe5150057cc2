package dev.connstate.config;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A value other than the default for every property of the module's table, as the module's text:
 * the tests of each way in (Spring Boot's properties, the Dropwizard bundle's YAML) set each one
 * their own way and expect it in the settings they make. A property added to the table without
 * a sample here fails {@link #all()}, and so every test of a way in, until each carries it.
 */
public final class SettingSamples
{
    private static final Map<String, String> SAMPLES = new LinkedHashMap<>();

    static
    {
        SAMPLES.put(ModuleSettings.SINKS, "jsonl");
        SAMPLES.put(ModuleSettings.LOG_LOGGER, "access");
        SAMPLES.put(ModuleSettings.LOG_FORMAT, "{id} {state}");
        SAMPLES.put(ModuleSettings.JSONL_FILE, "out.jsonl");
        SAMPLES.put(ModuleSettings.JSONL_FILENAME_DATE_FORMAT, "yyyyMMdd");
        SAMPLES.put(ModuleSettings.JSONL_RETAIN_DAYS, "7");
        SAMPLES.put(ModuleSettings.JSONL_APPEND, "false");
        SAMPLES.put(ModuleSettings.JSONL_ROLLOVER_TIMEZONE, "UTC");
        SAMPLES.put(ModuleSettings.CONNLOG_FILE, "connections.jsonl");
        SAMPLES.put(ModuleSettings.CONNLOG_FILENAME_DATE_FORMAT, "yyyy-MM-dd");
        SAMPLES.put(ModuleSettings.CONNLOG_RETAIN_DAYS, "30");
        SAMPLES.put(ModuleSettings.CONNLOG_APPEND, "false");
        SAMPLES.put(ModuleSettings.CONNLOG_ROLLOVER_TIMEZONE, "Europe/Paris");
        SAMPLES.put(ModuleSettings.LISTENERS, "com.example.Listener");
        SAMPLES.put(ModuleSettings.QUEUE_CAPACITY, "16");
        SAMPLES.put(ModuleSettings.STATUS_PATH, "/table");
        SAMPLES.put(ModuleSettings.STATUS_ALLOW, "10.0.0.1");
        SAMPLES.put(ModuleSettings.STATUS_MAX_ROWS, "50");
        SAMPLES.put(ModuleSettings.KEEP_ALIVE_TIMEOUT, "75000");
        SAMPLES.put(ModuleSettings.REQUEST_HEADER_TIMEOUT, "10000");
        SAMPLES.put(ModuleSettings.CLIENT_MAX_CONNECTIONS, "100");
        SAMPLES.put(ModuleSettings.CLIENT_MAX_NEW, "10");
        SAMPLES.put(ModuleSettings.CLIENT_EXEMPT, "10.0.0.0/8");
        SAMPLES.put(ModuleSettings.DRAIN, "false");
        SAMPLES.put(ModuleSettings.DRAIN_NEW_GRACE, "750");
        SAMPLES.put(ModuleSettings.OTEL, "true");
    }

    private SettingSamples()
    {
    }

    /**
     * @return a sample of every property of the module's table, in its order, each other than its
     * default and accepted by the module's checks
     */
    public static Map<String, String> all()
    {
        assertEquals(ModuleSettings.defaults().keySet(), SAMPLES.keySet(), "a sample for every property of ModuleSettings.defaults()");
        SAMPLES.forEach((property, sample) -> assertNotEquals(ModuleSettings.defaultValue(property), sample, property + ": a sample must differ from the default"));
        ModuleSettings.of(SAMPLES, null);
        return Map.copyOf(SAMPLES);
    }
}
