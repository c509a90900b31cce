package dev.grpckeepalive.benchmarks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import dev.grpckeepalive.benchmarks.proto.BenchServiceGrpc;
import dev.grpckeepalive.benchmarks.proto.Payload;

/**
 * A separate JVM holding N idle connections to a server, each pinging every 10 s without
 * calls, so that the server's JVM holds only the server's side (and each process stays
 * within its own open-file limit). Prints {@code ready} once all are connected, and exits
 * when its standard input closes.
 */
public final class IdleClients {

	private IdleClients() {
	}

	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(args[0]);
		int count = Integer.parseInt(args[1]);
		Payload one = Payload.newBuilder().setData(ByteString.copyFromUtf8("x")).build();
		List<ManagedChannel> channels = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			ManagedChannel channel = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
				.usePlaintext()
				.keepAliveTime(10, TimeUnit.SECONDS)
				.keepAliveTimeout(10, TimeUnit.SECONDS)
				.keepAliveWithoutCalls(true)
				.build();
			channels.add(channel);
			BenchServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).echo(one);
		}
		System.out.println("ready");
		System.out.flush();
		new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
		long failed = channels.stream()
			.filter((channel) -> channel.getState(false) == io.grpc.ConnectivityState.TRANSIENT_FAILURE)
			.count();
		System.out.println("failed " + failed);
		channels.forEach(ManagedChannel::shutdownNow);
		System.exit(0);
	}

}
