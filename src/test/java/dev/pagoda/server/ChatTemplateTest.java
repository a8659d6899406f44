package dev.pagoda.server;

import dev.pagoda.TestData;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Jinja chat templates as Hugging Face renders them (trim_blocks, lstrip_blocks, raise_exception). */
class ChatTemplateTest {
    private static final List<Map<String, Object>> CONVERSATION = List.of(
            Map.of("role", "system", "content", "Be brief."),
            Map.of("role", "user", "content", "Hi"),
            Map.of("role", "assistant", "content", "Hello!"),
            Map.of("role", "user", "content", "A story?"));

    /** ChatML, as Qwen and many others ship it; newlines after block tags go (trim_blocks), so does indentation before them (lstrip_blocks). */
    private static final String CHATML = """
              {% for message in messages %}
            {{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}
            {% if add_generation_prompt %}
            {{ '<|im_start|>assistant\\n' }}{% endif %}""";

    /** Llama 2's shape: BOS per turn, [INST] markers, alternation enforced with raise_exception. */
    private static final String LLAMA2 = "{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

    @Test
    void chatMl() {
        String out = ChatTemplate.of(CHATML, "<s>", "</s>").render(CONVERSATION, true);
        assertThat(out).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nA story?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(ChatTemplate.of(CHATML, "<s>", "</s>").render(CONVERSATION, false)).endsWith("A story?<|im_end|>\n");
    }

    @Test
    void llama2WithBosEosAndRaiseException() {
        ChatTemplate t = ChatTemplate.of(LLAMA2, "<s>", "</s>");
        assertThat(t.render(CONVERSATION.subList(1, 4), true))
                .isEqualTo("<s>[INST] Hi [/INST] Hello! </s><s>[INST] A story? [/INST]");
        assertThatThrownBy(() -> t.render(CONVERSATION, true)).isInstanceOf(ApiException.class)
                .hasMessageContaining("roles must alternate");
    }

    @Test
    void plainDefaultForAModelWithoutTemplate() {
        try (Model m = ModelLoader.open(TestData.path("models/stories260K/stories260K.bin"))) {
            assertThat(m.chatTemplate()).isNull();
            ChatTemplate t = ChatTemplate.of(m);
            assertThat(t.rendersSpecialTokens()).isFalse();
            assertThat(t.render(CONVERSATION.subList(1, 3), true)).isEqualTo("user: Hi\nassistant: Hello!\nassistant:");
        }
    }
}
