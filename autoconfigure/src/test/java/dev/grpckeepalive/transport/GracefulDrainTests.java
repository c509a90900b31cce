package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelOutboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The drain hands grpc-java its own graceful close command, with the debug data and the grace:
 * a grpc-java upgrade that renames or removes the command fails here, not silently in
 * production (where the drain would fall back to a close without a grace of its own).
 */
class GracefulDrainTests {

	@Test
	void grpcJavasGracefulCloseCommandCarriesTheDebugDataAndTheGrace() throws Exception {
		assertThat(GracefulDrain.isCommandAvailable()).isTrue();
		Object[] written = new Object[1];
		EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {

			@Override
			public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
				written[0] = msg;
				promise.setSuccess();
			}

		});

		GracefulDrain.start(channel, Duration.ofSeconds(7));

		Object command = written[0];
		assertThat(command.getClass().getName()).isEqualTo("io.grpc.netty.shaded.io.grpc.netty.GracefulServerCloseCommand");
		assertThat(get(command, "getGoAwayDebugString")).isEqualTo("drained");
		long grace = (long) get(command, "getGraceTime");
		TimeUnit unit = (TimeUnit) get(command, "getGraceTimeUnit");
		assertThat(unit.toSeconds(grace)).isEqualTo(7);
		// grpc-java closes the connection, not the drain
		assertThat(channel.isOpen()).isTrue();
	}

	/** A getter of the package-private command class. */
	private static Object get(Object command, String getter) throws Exception {
		java.lang.reflect.Method method = command.getClass().getMethod(getter);
		method.setAccessible(true);
		return method.invoke(command);
	}

}
