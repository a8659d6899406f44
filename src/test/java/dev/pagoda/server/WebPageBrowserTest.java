package dev.pagoda.server;

import dev.pagoda.Await;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvLayout;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web page in a real headless Chromium (Debian's chromium and chromium-driver, found at their system paths;
 * nothing is downloaded): the key prompt, a streamed chat, the request's blocks appearing in the map and going
 * back to free, shared blocks of parallel samples, and the contiguous layout's reservations. Requests are held in
 * the middle of their generation by a {@link StepGate}, never by being long. Screenshots go to target/.
 * A browser that cannot start fails the test.
 */
class WebPageBrowserTest {
    private static final String KEY = "web-page-key";
    private static final EngineConfig PAGED = EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).build();
    private static ChromeDriver browser;

    @BeforeAll
    static void startBrowser() {
        // The system's driver and browser, so that Selenium Manager has nothing to look up or download.
        System.setProperty("webdriver.chrome.driver", "/usr/bin/chromedriver");
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1440,1000", "--force-device-scale-factor=1", "--hide-scrollbars");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().scriptTimeout(Await.HANG_GUARD);
    }

    @AfterAll
    static void quitBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void chatStreamsWhileItsBlocksAppearAndGoBackToFree() throws Exception {
        try (ServerFixture fx = new ServerFixture(PAGED, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().apiKey(KEY).build())) {
            open(fx, KEY);
            try (StepGate gate = new StepGate(fx.llm.engine(), 3)) {
                chat("Tell me a story about a cat.", 1, 48);
                gate.awaitHeld();
                awaitPage("the streamed answer and the request's blocks in the map",
                        () -> !answer(0).isEmpty() && count("used") > 0 && count("highlighted") == count("used"));
                assertThat(count("shared")).isZero();
                screenshot("chat-running");
            }
            awaitPage("the answer to end and every block to be free again", () -> answerState().equals("done") && count("used") == 0);
            assertThat(count("free") + count("cached")).isEqualTo(fx.llm.engine().kvCacheSlots() / 16);
            assertThat(answer(0).length()).isGreaterThan(5);
            screenshot("chat-done");
        }
    }

    @Test
    void parallelSamplesShowSharedBlocks() throws Exception {
        try (ServerFixture fx = new ServerFixture(PAGED, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().apiKey(KEY).build())) {
            open(fx, KEY);
            try (StepGate gate = new StepGate(fx.llm.engine(), 2)) {
                chat("Once upon a time there was a little girl named Lily. She loved to play in the park with her big red ball.", 4, 40);
                gate.awaitHeld();
                awaitPage("four samples sharing their prompt's blocks", () -> count("shared") > 0 && count("sequences") == 4);
                screenshot("parallel-samples");
            }
            awaitPage("the samples to end and every block to be free again", () -> answerState().equals("done") && count("used") == 0);
            for (int i = 0; i < 4; i++) {
                assertThat(answer(i)).as("sample %d", i).isNotEmpty();
            }
        }
    }

    @Test
    void contiguousLayoutShowsReservations() throws Exception {
        EngineConfig contiguous = PAGED.toBuilder().kvLayout(KvLayout.CONTIGUOUS).build();
        try (ServerFixture fx = new ServerFixture(contiguous, ServerConfig.loopback(ServerFixture.MODEL))) {
            open(fx, null);
            try (StepGate gate = new StepGate(fx.llm.engine(), 1)) {
                chat("Tell me a story about a dog.", 1, 40);
                gate.awaitHeld();
                awaitPage("the request's reservation, mostly unused", () -> count("used") > 0 && count("reserved") > 0);
                assertThat(browser.findElement(By.id("legend")).getText()).contains("reserved, unused");
                screenshot("contiguous");
            }
            awaitPage("the reservation to be released", () -> answerState().equals("done") && count("used") == 0 && count("reserved") == 0);
        }
    }

    /** Opens the page, gives the key when one is set, and waits for the first block map. */
    private static void open(ServerFixture fx, String key) throws InterruptedException {
        browser.get(fx.url("/"));
        if (key != null) {
            WebElement input = browser.findElement(By.id("api-key"));
            awaitPage("the page to ask for the API key", input::isDisplayed);
            input.sendKeys(key);
            browser.findElement(By.id("key-save")).click();
        }
        awaitPage("the first block map", () -> count("version") > 0);
    }

    private static void chat(String message, int n, int maxTokens) {
        set("temperature", "0.8");
        set("seed", "7");
        set("n", Integer.toString(n));
        set("max-tokens", Integer.toString(maxTokens));
        browser.findElement(By.id("prompt")).sendKeys(message);
        browser.findElement(By.id("send")).click();
    }

    private static void set(String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
    }

    private static Object script(String js) {
        return ((JavascriptExecutor) browser).executeScript(js);
    }

    /** A count from the page's last map: blocks by state, and its sequences and version. */
    @SuppressWarnings("unchecked")
    private static long count(String what) {
        Object v = ((Map<String, Object>) script("return window.pagoda.counts()")).get(what);
        return v == null ? 0 : ((Number) v).longValue();
    }

    private static String answer(int choice) {
        return (String) script("const m = document.querySelectorAll('.msg.assistant'); if (!m.length) return '';"
                + "const c = m[m.length - 1].querySelectorAll('.choice')[" + choice + "]; return c ? c.textContent : '';");
    }

    private static String answerState() {
        return (String) script("const m = document.querySelectorAll('.msg.assistant'); return m.length ? m[m.length - 1].dataset.state : '';");
    }

    private static void awaitPage(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Await.HANG_GUARD.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                screenshot("failed");
                throw new AssertionError("the page did not show " + what + " within " + Await.HANG_GUARD.toMinutes() + " minutes; counts "
                        + script("return window.pagoda.counts()"));
            }
            Thread.sleep(50);
        }
    }

    private static void screenshot(String name) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "screenshots"));
            Files.write(dir.resolve("web-page-" + name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new AssertionError("cannot save the screenshot " + name, e);
        }
    }
}
