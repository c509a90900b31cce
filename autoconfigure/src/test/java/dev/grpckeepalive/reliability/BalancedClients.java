package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.grpc.ManagedChannel;
import org.springframework.context.ConfigurableApplicationContext;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.test.TestApps;

/**
 * A client application whose channels {@code lb1..lbN} all target one load balancer, as a fleet's clients do
 * behind an L4 proxy, and the steady load they send: the set-up the scale-out scenarios share.
 */
final class BalancedClients {

	private BalancedClients() {
	}

	/** A client application with {@code channels} channels {@code lb1..}, all to {@code target} (pick_first). */
	static ConfigurableApplicationContext start(String target, int channels) {
		List<String> properties = new ArrayList<>();
		for (int i = 1; i <= channels; i++) {
			properties.add("grpc.keepalive.client.channels.lb" + i + ".target=" + target);
		}
		// TestApps also configures channel "test"; it sends nothing and so never connects
		return TestApps.client(target, properties.toArray(String[]::new));
	}

	/** One unary call on each of the {@code channels} channels {@code lb1..} every {@code period}. */
	static SteadyUnaryLoad load(ConfigurableApplicationContext client, int channels, String name, Duration period,
			Duration deadline) {
		GrpcChannels grpcChannels = client.getBean(GrpcChannels.class);
		List<ManagedChannel> lb = new ArrayList<>();
		for (int i = 1; i <= channels; i++) {
			lb.add(grpcChannels.get("lb" + i));
		}
		return new SteadyUnaryLoad(name, lb, period, deadline);
	}

}
