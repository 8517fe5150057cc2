package dev.connstate;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The command-line tools that tests run for real (jq, promtool, prometheus), from the Debian
 * packages {@code .ci/run} installs when they are missing.
 */
public final class Tools
{
    private Tools()
    {
    }

    /** @return whether {@code tool --version} runs here and exits 0 within 30 s */
    public static boolean installed(String tool)
    {
        try
        {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        }
        catch (IOException | InterruptedException x)
        {
            return false;
        }
    }

    /**
     * Skips the test, saying why, if {@code tool} is not installed; fails it instead with
     * {@code -Dconnstate.tools.required=true} ({@code .ci/run}, which installs the tools).
     *
     * @param tool the command
     * @param debianPackage the Debian package that has it
     */
    public static void assumeInstalled(String tool, String debianPackage)
    {
        assumeTrue(installed(tool) || Boolean.getBoolean("connstate.tools.required"),
            tool + " is not installed: .ci/run installs it (apt-get install " + debianPackage + ")");
    }
}
