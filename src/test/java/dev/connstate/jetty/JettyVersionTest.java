package dev.connstate.jetty;

import org.eclipse.jetty.util.Jetty;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class JettyVersionTest
{
    @Test
    public void theJettyThatRunsTheTestsIsSupported()
    {
        // CI runs this suite on every supported version (.ci/run): each must pass the check.
        JettyVersion.check();
        assertEquals(Jetty.VERSION, JettyVersion.RUNNING.toString());
        assertTrue(JettyVersion.RUNNING.isSupported(), Jetty.VERSION);
    }

    @Test
    public void releasesFromTheOldestSupportedOnPass()
    {
        String oldest = JettyVersion.OLDEST_SUPPORTED.toString();
        assertEquals("12.1.4", oldest);
        for (String version : new String[]{oldest, "12.1.5", "12.1.6", "12.1.10", "12.1.12", "12.1.14", "12.1.99", " 12.1.12 "})
        {
            JettyVersion.check(version);
            assertTrue(JettyVersion.parse(version).isSupported(), version);
        }
    }

    @Test
    public void olderReleasesAndOtherLinesAreRefusedInOneLine()
    {
        for (String version : new String[]{"12.1.3", "12.1.0", "12.0.16", "12.0.99", "11.0.24", "9.4.57.v20241219", "12.2.0", "13.0.0", "13.0.0.alpha1"})
        {
            IllegalStateException x = assertThrows(IllegalStateException.class, () -> JettyVersion.check(version), version);
            assertEquals("jetty-connstate needs Jetty 12.1.4 or a later 12.1.x, found " + version, x.getMessage());
        }
    }

    @Test
    public void aPreReleaseComesBeforeItsReleaseAndAfterTheOneBefore()
    {
        // Snapshots, alphas and betas of the oldest supported release may lack what it brought.
        for (String version : new String[]{"12.1.4-SNAPSHOT", "12.1.4.beta0", "12.1.4.alpha2", "12.1.0.beta3"})
            assertThrows(IllegalStateException.class, () -> JettyVersion.check(version), version);
        for (String version : new String[]{"12.1.5-SNAPSHOT", "12.1.6.beta1", "12.1.13-SNAPSHOT"})
            JettyVersion.check(version);

        assertFalse(JettyVersion.parse("12.1.6-SNAPSHOT").isAtLeast(12, 1, 6));
        assertFalse(JettyVersion.parse("12.1.6.beta1").isAtLeast(12, 1, 6));
        assertTrue(JettyVersion.parse("12.1.6").isAtLeast(12, 1, 6));
        assertTrue(JettyVersion.parse("12.1.7-SNAPSHOT").isAtLeast(12, 1, 6));
        assertFalse(JettyVersion.parse("12.1.5").isAtLeast(12, 1, 6));
        assertTrue(JettyVersion.parse("12.1.10").isAtLeast(12, 1, 6), "numbers, not text: 10 > 6");
        assertFalse(JettyVersion.parse("12.0.40").isAtLeast(12, 1, 6));
        assertTrue(JettyVersion.parse("13.0.0").isAtLeast(12, 1, 6));
    }

    @Test
    public void aVersionThatCannotBeReadPassesAndReadsAsTheNewest()
    {
        // 12.1.z-SNAPSHOT is what Jetty says when its jar lost its manifest and build properties.
        for (String version : new String[]{"12.1.z-SNAPSHOT", "unknown", "", "12", "12.1", "99999999999.1.1", null})
        {
            JettyVersion.check(version);
            JettyVersion parsed = JettyVersion.parse(version);
            assertTrue(parsed.isSupported(), version);
            assertTrue(parsed.isAtLeast(12, 1, 6), version);
            assertEquals(String.valueOf(version), parsed.toString());
        }
    }
}
