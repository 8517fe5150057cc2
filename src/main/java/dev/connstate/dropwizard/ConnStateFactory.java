package dev.connstate.dropwizard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.config.ModuleSettings;
import dev.connstate.sink.BuiltInSinks;
import dev.connstate.sink.JsonLinesFile;
import dev.connstate.sink.JsonLinesSink;
import io.dropwizard.util.Duration;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import jakarta.validation.constraints.NotNull;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The {@code connstate:} block of a Dropwizard application's YAML: the {@code connstate} Jetty
 * module's settings under the module's own names, nested where the module's names have dots
 * ({@code jsonl.retainDays} is {@code retainDays} under {@code jsonl:}), with the module's
 * defaults; the module's {@code drain} is {@code drain.enabled} here, beside {@code drain.newGrace}.
 *
 * <p>Dropwizard's validation checks it when it reads the YAML, with the module's rules
 * ({@link ModuleSettings}): a value that cannot work fails the start with one line naming the
 * field, e.g. {@code connstate.queue.capacity must be between 1 and 1073741824 (was 0)}. What
 * needs the class path (a sink's name, a listener class, a log line's placeholders, the jsonl and
 * connlog files) is checked when the server starts, named the same way.</p>
 */
@ConnStateFactory.Checked
public class ConnStateFactory
{
    /** The module's defaults, read by its own checks: the fields start from them. */
    private static final ModuleSettings DEFAULTS = ModuleSettings.of(Map.of(), null);

    @NotNull
    @JsonProperty
    private List<String> sinks = new ArrayList<>(DEFAULTS.sinks());
    @NotNull
    @JsonProperty
    private Log log = new Log();
    @NotNull
    @JsonProperty
    private Jsonl jsonl = new Jsonl();
    @NotNull
    @JsonProperty
    private ConnLog connlog = new ConnLog();
    @NotNull
    @JsonProperty
    private List<String> listeners = new ArrayList<>(DEFAULTS.listeners());
    @NotNull
    @JsonProperty
    private Queue queue = new Queue();
    @NotNull
    @JsonProperty
    private Status status = new Status();
    /** Absent (null): the connector's idle timeout closes idle connections, as the module's blank. */
    @JsonProperty
    private Duration keepAliveTimeout;
    /** Absent (null): off, as the module's blank. */
    @JsonProperty
    private Duration requestHeaderTimeout;
    @NotNull
    @JsonProperty
    private Client client = new Client();
    @NotNull
    @JsonProperty
    private Drain drain = new Drain();
    @JsonProperty
    private boolean otel = DEFAULTS.otel();

    /** The {@code log} sink. */
    public static class Log
    {
        @JsonProperty
        private String logger = DEFAULTS.value(ModuleSettings.LOG_LOGGER);
        @JsonProperty
        private String format = DEFAULTS.value(ModuleSettings.LOG_FORMAT);
    }

    /** The file of a sink that writes one, the keys of the module's {@link BuiltInSinks.FileSink}. */
    public abstract static class SinkFile
    {
        /** The sink's name: its module properties are {@code jetty.connstate.NAME.KEY}. */
        private final String sink;
        @JsonProperty
        private String file;
        @JsonProperty
        private String filenameDateFormat = JsonLinesFile.DEFAULT_FILENAME_DATE_FORMAT;
        @JsonProperty
        private int retainDays = JsonLinesFile.DEFAULT_RETAIN_DAYS;
        @JsonProperty
        private boolean append = JsonLinesFile.DEFAULT_APPEND;
        @NotNull
        @JsonProperty
        private Rollover rollover = new Rollover();

        private SinkFile(String sink)
        {
            this.sink = sink;
            this.file = DEFAULTS.value(property(BuiltInSinks.FileSink.FILE));
        }

        private String property(String key)
        {
            return ModuleSettings.PREFIX + sink + "." + key;
        }

        /** Puts these settings, as the sink's module properties, into {@code module}. */
        void put(Map<String, String> module)
        {
            module.put(property(BuiltInSinks.FileSink.FILE), file);
            module.put(property(BuiltInSinks.FileSink.FILENAME_DATE_FORMAT), filenameDateFormat);
            module.put(property(BuiltInSinks.FileSink.RETAIN_DAYS), String.valueOf(retainDays));
            module.put(property(BuiltInSinks.FileSink.APPEND), String.valueOf(append));
            module.put(property(BuiltInSinks.FileSink.ROLLOVER_TIMEZONE), rollover == null ? null : rollover.timezone);
        }
    }

    /** The {@code jsonl} sink. */
    public static class Jsonl extends SinkFile
    {
        public Jsonl()
        {
            super(BuiltInSinks.JsonLines.NAME);
        }
    }

    /** The {@code connlog} sink. */
    public static class ConnLog extends SinkFile
    {
        public ConnLog()
        {
            super(BuiltInSinks.ConnLog.NAME);
        }
    }

    /** When a sink begins a new file. */
    public static class Rollover
    {
        @JsonProperty
        private String timezone = JsonLinesFile.DEFAULT_TIME_ZONE;
    }

    /** The queue of each sink and listener. */
    public static class Queue
    {
        @JsonProperty
        private int capacity = DEFAULTS.queueCapacity();
    }

    /** The live connection table. */
    public static class Status
    {
        @JsonProperty
        private String path = DEFAULTS.statusPath();
        @NotNull
        @JsonProperty
        private List<String> allow = DEFAULTS.statusAllow().isEmpty() ? new ArrayList<>() : new ArrayList<>(List.of(DEFAULTS.statusAllow().split(",")));
        @JsonProperty
        private int maxRows = DEFAULTS.statusMaxRows();
    }

    /** The caps of connections per client address. */
    public static class Client
    {
        @JsonProperty
        private int maxConnections = DEFAULTS.clientMaxConnections();
        @JsonProperty
        private int maxNew = DEFAULTS.clientMaxNew();
        @NotNull
        @JsonProperty
        private List<String> exempt = DEFAULTS.clientExempt().isEmpty() ? new ArrayList<>() : new ArrayList<>(List.of(DEFAULTS.clientExempt().split(",")));
    }

    /** The drain in a graceful stop ({@code server.shutdownGracePeriod} is its deadline). */
    public static class Drain
    {
        @JsonProperty
        private boolean enabled = DEFAULTS.drain();
        @NotNull
        @JsonProperty
        private Duration newGrace = Duration.milliseconds(DEFAULTS.drainNewGraceMillis());
    }

    /**
     * Each module property by its name here, below {@code connstate}: the module's name without its
     * prefix, but the module's {@code drain}, which is {@code drain.enabled}.
     */
    static final Map<String, String> NAMES = names();

    private static Map<String, String> names()
    {
        Map<String, String> names = new LinkedHashMap<>();
        for (String property : ModuleSettings.defaults().keySet())
            names.put(property, property.equals(ModuleSettings.DRAIN) ? "drain.enabled" : property.substring(ModuleSettings.PREFIX.length()));
        return Map.copyOf(names);
    }

    /**
     * @return the module's properties these settings make, by their module names
     */
    public Map<String, String> properties()
    {
        Map<String, String> module = new LinkedHashMap<>();
        module.put(ModuleSettings.SINKS, String.join(",", sinks));
        module.put(ModuleSettings.LOG_LOGGER, log.logger);
        module.put(ModuleSettings.LOG_FORMAT, log.format);
        jsonl.put(module);
        connlog.put(module);
        module.put(ModuleSettings.LISTENERS, String.join(",", listeners));
        module.put(ModuleSettings.QUEUE_CAPACITY, String.valueOf(queue.capacity));
        module.put(ModuleSettings.STATUS_PATH, status.path);
        module.put(ModuleSettings.STATUS_ALLOW, status.allow == null ? null : String.join(",", status.allow));
        module.put(ModuleSettings.STATUS_MAX_ROWS, String.valueOf(status.maxRows));
        module.put(ModuleSettings.KEEP_ALIVE_TIMEOUT, keepAliveTimeout == null ? "" : String.valueOf(keepAliveTimeout.toMilliseconds()));
        module.put(ModuleSettings.REQUEST_HEADER_TIMEOUT, requestHeaderTimeout == null ? "" : String.valueOf(requestHeaderTimeout.toMilliseconds()));
        module.put(ModuleSettings.CLIENT_MAX_CONNECTIONS, client == null ? null : String.valueOf(client.maxConnections));
        module.put(ModuleSettings.CLIENT_MAX_NEW, client == null ? null : String.valueOf(client.maxNew));
        module.put(ModuleSettings.CLIENT_EXEMPT, client == null || client.exempt == null ? null : String.join(",", client.exempt));
        module.put(ModuleSettings.DRAIN, String.valueOf(drain.enabled));
        module.put(ModuleSettings.DRAIN_NEW_GRACE, drain.newGrace == null ? null : String.valueOf(drain.newGrace.toMilliseconds()));
        module.put(ModuleSettings.OTEL, String.valueOf(otel));
        return module;
    }

    /**
     * Checks the settings with the module's rules; relative files are the working directory's,
     * as everywhere in Dropwizard.
     *
     * @return the module's configuration they make
     * @throws ConnStateConfigurationException naming the first module property whose value cannot
     * work ({@link #field(ConnStateConfigurationException)} names its field)
     */
    public ModuleSettings settings()
    {
        return ModuleSettings.of(properties(), null);
    }

    /**
     * @param refused what the module's checks refused
     * @return the YAML field, below {@code connstate}, of the property refused ({@code queue.capacity})
     */
    static String field(ConnStateConfigurationException refused)
    {
        String property = refused.getProperty();
        return NAMES.getOrDefault(property, property.startsWith(ModuleSettings.PREFIX) ? property.substring(ModuleSettings.PREFIX.length()) : property);
    }

    /**
     * @param refused what the module's checks refused
     * @return the problem, then the value refused: the line Dropwizard shows after the field's path
     */
    static String problem(ConnStateConfigurationException refused)
    {
        return refused.getProblem() + " (was '" + refused.getValue() + "')";
    }

    /** Dropwizard's validation of the settings: the module's rules, the refusal under the field's path. */
    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @Constraint(validatedBy = ModuleRules.class)
    public @interface Checked
    {
        /** @return unused: each refusal says its own problem */
        String message() default "connstate settings that cannot work";

        /** @return the validation groups */
        Class<?>[] groups() default {};

        /** @return the payload */
        Class<? extends Payload>[] payload() default {};
    }

    /** Runs {@link ModuleSettings}'s checks and reports a refusal at the refused field. */
    public static class ModuleRules implements ConstraintValidator<Checked, ConnStateFactory>
    {
        @Override
        public boolean isValid(ConnStateFactory factory, ConstraintValidatorContext context)
        {
            if (factory == null)
                return true;
            try
            {
                factory.settings();
                return true;
            }
            catch (ConnStateConfigurationException refused)
            {
                context.disableDefaultConstraintViolation();
                ConstraintValidatorContext.ConstraintViolationBuilder violation = context.buildConstraintViolationWithTemplate(literal(problem(refused)));
                String[] path = field(refused).split("\\.");
                ConstraintValidatorContext.ConstraintViolationBuilder.NodeBuilderCustomizableContext node = violation.addPropertyNode(path[0]);
                for (int i = 1; i < path.length; i++)
                    node = node.addPropertyNode(path[i]);
                node.addConstraintViolation();
                return false;
            }
        }

        /** The message as it is: a validator's template reads {, }, $ and \ as its own. */
        private static String literal(String message)
        {
            return message.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("$", "\\$");
        }
    }
}
