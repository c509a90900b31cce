package dev.grpckeepalive.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import dev.grpckeepalive.benchmarks.proto.BenchServiceGrpc;
import dev.grpckeepalive.benchmarks.proto.Payload;
import dev.grpckeepalive.benchmarks.proto.StreamRequest;
import dev.grpckeepalive.client.GrpcChannels;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Dead-peer detection: a starter channel with keepalive time 10 s and timeout 1 s streams
 * through a loopback proxy that then drops every byte without closing a socket; the time
 * from the last byte read to the stream's UNAVAILABLE "Keepalive failed", against the limit
 * time + timeout.
 */
final class DetectionBenchmark {

	private static final int TRIALS = 5;

	private DetectionBenchmark() {
	}

	static String runAndReport() throws Exception {
		try (Deployment server = Deployment.start(Variant.PLAIN)) {
			StringBuilder table = new StringBuilder("### Dead-peer detection (keepalive time 10 s, timeout 1 s)\n\n");
			table.append(TRIALS).append(" trials, one after the other; the limit is time + timeout = 11 s, the target 12 s.\n\n");
			table.append("| trial | detection s | status |\n|---|---|---|\n");
			for (int trial = 1; trial <= TRIALS; trial++) {
				double seconds = trial(server.port());
				System.out.printf(Locale.ROOT, "detection trial %d: %.2f s%n", trial, seconds);
				table.append(String.format(Locale.ROOT, "| %d | %.2f | UNAVAILABLE, Keepalive failed |%n", trial,
						seconds));
			}
			return table.append('\n').toString();
		}
	}

	private static double trial(int serverPort) {
		try (Blackhole proxy = new Blackhole(serverPort);
				ConfigurableApplicationContext client = new SpringApplicationBuilder(Deployment.StarterClientApp.class)
					.web(WebApplicationType.NONE)
					.bannerMode(Banner.Mode.OFF)
					.logStartupInfo(false)
					.properties("grpc.keepalive.client.channels.bench.target=127.0.0.1:" + proxy.port(),
							"grpc.keepalive.client.channels.bench.time=10s",
							"grpc.keepalive.client.channels.bench.timeout=1s")
					.run()) {
			ManagedChannel channel = client.getBean(GrpcChannels.class).get("bench");
			CompletableFuture<Status> ended = new CompletableFuture<>();
			BenchServiceGrpc.newStub(channel)
				.stream(StreamRequest.newBuilder().setCount(Integer.MAX_VALUE).setSize(1).build(), new StreamObserver<Payload>() {

					@Override
					public void onNext(Payload value) {
						proxy.silence();
					}

					@Override
					public void onError(Throwable error) {
						ended.complete(Status.fromThrowable(error));
					}

					@Override
					public void onCompleted() {
						ended.complete(Status.OK);
					}

				});
			Status status = ended.get(60, TimeUnit.SECONDS);
			if (status.getCode() != Status.Code.UNAVAILABLE || !String.valueOf(status.getDescription()).contains("Keepalive failed")) {
				throw new IllegalStateException("unexpected " + status);
			}
			return (System.nanoTime() - proxy.lastReadFromServer()) / 1e9;
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** Forwards bytes until silenced, then drops them all, keeping every socket open. */
	private static final class Blackhole implements AutoCloseable {

		private final ServerSocket listener = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());

		private final List<Socket> sockets = new ArrayList<>();

		private volatile boolean silent;

		private volatile long lastReadFromServer;

		Blackhole(int upstreamPort) throws IOException {
			Thread acceptor = new Thread(() -> {
				try {
					Socket client = this.listener.accept();
					Socket upstream = new Socket();
					upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort));
					synchronized (this.sockets) {
						this.sockets.add(client);
						this.sockets.add(upstream);
					}
					pump(client, upstream, false);
					pump(upstream, client, true);
				}
				catch (IOException ex) {
					// closed
				}
			});
			acceptor.setDaemon(true);
			acceptor.start();
		}

		int port() {
			return this.listener.getLocalPort();
		}

		void silence() {
			this.silent = true;
		}

		long lastReadFromServer() {
			return this.lastReadFromServer;
		}

		private void pump(Socket from, Socket to, boolean fromServer) {
			Thread thread = new Thread(() -> {
				byte[] buffer = new byte[16384];
				try {
					InputStream in = from.getInputStream();
					OutputStream out = to.getOutputStream();
					int read;
					while ((read = in.read(buffer)) != -1) {
						if (this.silent) {
							continue;
						}
						out.write(buffer, 0, read);
						if (fromServer) {
							this.lastReadFromServer = System.nanoTime();
						}
					}
				}
				catch (IOException ex) {
					// closed
				}
			});
			thread.setDaemon(true);
			thread.start();
		}

		@Override
		public void close() throws IOException {
			this.listener.close();
			synchronized (this.sockets) {
				for (Socket socket : this.sockets) {
					socket.close();
				}
			}
		}

	}

}
