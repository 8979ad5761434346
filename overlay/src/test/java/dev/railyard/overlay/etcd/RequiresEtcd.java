package dev.railyard.overlay.etcd;

import dev.railyard.testkit.PrivilegeDecision;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Tests that start real etcd processes: skipped with a reason when the etcd binary is missing,
 * failed instead when {@code railyard.requirePrivileged=true} (CI), so CI cannot go green by skipping.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresEtcd.Check.class)
public @interface RequiresEtcd {

    final class Check implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            for (String tool : new String[] {"etcd", "etcdctl", "openssl"}) {
                Path p = EtcdProcess.findBinary(tool);
                String reason = tool + " not found on PATH (Debian: apt-get install etcd-server etcd-client openssl)";
                if (p == null || !Files.isExecutable(p)) {
                    // the same switch, read the same way, as testkit's @RequiresPrivileges
                    boolean required = PrivilegeDecision.isRequired(context.getConfigurationParameter(PrivilegeDecision.REQUIRE_PROPERTY)
                            .orElse(System.getProperty(PrivilegeDecision.REQUIRE_PROPERTY)));
                    if (required) {
                        throw new AssertionError(reason + "; railyard.requirePrivileged=true so this fails instead of skipping");
                    }
                    Assumptions.abort(reason);
                }
            }
        }
    }
}
