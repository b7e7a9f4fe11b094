package com.perseusproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.config.ShutdownSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes: no cluster runs here, so the manifests are parsed and checked against what the proxy does: the
 * ConfigMap's config.json loads, the probes hit /ready and /health on the metrics port it configures, the grace period
 * covers preStop plus the drain timeout, the pod name becomes the replica id, and the Service, PDB and HPA point at
 * the Deployment.
 */
class PeerKubernetesManifestsTest {

    private static final Path DIR = Path.of("..", "deploy", "kubernetes");

    private static Map<String, Object> manifest(String file) throws Exception {
        return MiniYaml.parse(Files.readString(DIR.resolve(file)));
    }

    @SuppressWarnings("unchecked")
    private static <T> T at(Object node, String... path) {
        Object current = node;
        for (String step : path) {
            if (current instanceof List<?> list) {
                current = list.get(Integer.parseInt(step));
            } else {
                current = ((Map<String, Object>) current).get(step);
            }
            assertNotNull(current, "missing " + String.join(".", path) + " at " + step);
        }
        return (T) current;
    }

    @Test
    void probesPortsAndTimeoutsMatchTheProxy() throws Exception {
        Map<String, Object> configMap = manifest("configmap.yaml");
        Map<String, Object> secret = manifest("secret.yaml");
        Map<String, Object> deployment = manifest("deployment.yaml");
        assertEquals("ConfigMap", configMap.get("kind"));
        assertEquals("Secret", secret.get("kind"));
        assertEquals("Deployment", deployment.get("kind"));

        Map<String, String> secrets = at(secret, "stringData");
        Map<String, String> env = new java.util.HashMap<>(secrets);
        env.put("POD_NAME", "perseus-7d9f-abcde");
        ProxyConfig config = ProxyConfig.parse(at(configMap, "data", "config.json"), env);
        assertEquals("perseus-7d9f-abcde", config.peers().id(), "the pod name is the replica id");
        assertTrue(config.peers().discovery(), "replicas find each other through perseus_peers");
        assertTrue(config.metricsEnabled(), "the probes need the metrics listener");

        Map<String, Object> pod = at(deployment, "spec", "template", "spec");
        Map<String, Object> container = at(pod, "containers", "0");
        Map<String, Integer> ports = new java.util.HashMap<>();
        for (Map<String, String> port : (List<Map<String, String>>) at(container, "ports")) {
            ports.put(port.get("name"), Integer.parseInt(port.get("containerPort")));
        }
        assertEquals(config.listenAddress().port(), ports.get("postgres"));
        assertEquals(config.metricsAddress().port(), ports.get("metrics"));

        assertEquals("/ready", (String) at(container, "readinessProbe", "httpGet", "path"));
        assertEquals("metrics", (String) at(container, "readinessProbe", "httpGet", "port"));
        assertEquals("/health", (String) at(container, "livenessProbe", "httpGet", "path"));
        assertEquals("metrics", (String) at(container, "livenessProbe", "httpGet", "port"));
        int readyTimeout = Integer.parseInt(at(container, "readinessProbe", "timeoutSeconds"));
        assertTrue(readyTimeout >= 1, "the /ready answer comes from a cached check, never a slow query");
        assertTrue(Integer.parseInt(at(container, "readinessProbe", "periodSeconds"))
                * Integer.parseInt(at(container, "readinessProbe", "failureThreshold")) <= 5,
                "a draining replica leaves the endpoints within seconds");

        List<String> preStop = at(container, "lifecycle", "preStop", "exec", "command");
        assertEquals("sleep", preStop.get(0));
        int preStopSecs = Integer.parseInt(preStop.get(1));
        int grace = Integer.parseInt(at(pod, "terminationGracePeriodSeconds"));
        long drain = config.shutdown().drainTimeout().toSeconds();
        assertEquals(ShutdownSettings.DEFAULT_DRAIN_TIMEOUT_SECS, drain, "the ConfigMap keeps the default drain");
        assertTrue(grace >= preStopSecs + drain + 5, "grace " + grace + " s covers preStop " + preStopSecs
                + " s + drain " + drain + " s + a margin, so SIGKILL never cuts a drain short");

        Map<String, Object> podEnv = at(container, "env", "0");
        assertEquals("POD_NAME", podEnv.get("name"));
        assertEquals("metadata.name", (String) at(podEnv, "valueFrom", "fieldRef", "fieldPath"));
        assertEquals((String) at(secret, "metadata", "name"), (String) at(container, "envFrom", "0", "secretRef", "name"));
        assertEquals((String) at(configMap, "metadata", "name"), (String) at(pod, "volumes", "0", "configMap", "name"));
        assertEquals("/etc/perseus", (String) at(container, "volumeMounts", "0", "mountPath"));
        assertEquals(List.of("-config", "/etc/perseus/config.json"), at(container, "args"));
    }

    @Test
    void serviceBudgetAndAutoscalerPointAtTheDeployment() throws Exception {
        Map<String, Object> deployment = manifest("deployment.yaml");
        Map<String, String> labels = at(deployment, "spec", "template", "metadata", "labels");
        Map<String, Object> service = manifest("service.yaml");
        assertEquals("Service", service.get("kind"));
        assertEquals(labels, at(service, "spec", "selector"));
        assertEquals("postgres", (String) at(service, "spec", "ports", "0", "targetPort"));

        Map<String, Object> pdb = manifest("pdb.yaml");
        assertEquals("PodDisruptionBudget", pdb.get("kind"));
        assertEquals(labels, at(pdb, "spec", "selector", "matchLabels"));

        Map<String, Object> hpa = manifest("hpa.yaml");
        assertEquals("HorizontalPodAutoscaler", hpa.get("kind"));
        assertEquals((String) at(deployment, "metadata", "name"), (String) at(hpa, "spec", "scaleTargetRef", "name"));
        assertEquals("cpu", (String) at(hpa, "spec", "metrics", "0", "resource", "name"));

        List<String> resources = at(manifest("kustomization.yaml"), "resources");
        try (var files = Files.list(DIR)) {
            files.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith(".yaml") && !f.equals("kustomization.yaml"))
                    .forEach(f -> assertTrue(resources.contains(f), f + " is in kustomization.yaml"));
        }
    }
}
