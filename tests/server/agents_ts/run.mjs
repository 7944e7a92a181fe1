// An Agents SDK (TypeScript) agent with one function tool, over Chat Completions, against
// the server whose /v1 URL is argv[2]: once plain, once streamed. Prints one JSON line.
import { Agent, run, tool, OpenAIChatCompletionsModel, setTracingDisabled } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

setTracingDisabled(true); // no trace uploads
const client = new OpenAI({ baseURL: process.argv[2], apiKey: 'none', maxRetries: 0 });
const cities = [];
const getWeather = tool({
  name: 'get_weather',
  description: 'Current weather in a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    cities.push(city);
    return 'sunny';
  },
});
const agent = new Agent({
  name: 'weather',
  instructions: 'Answer weather questions with the tool.',
  tools: [getWeather],
  model: new OpenAIChatCompletionsModel(client, 'gpt-oss-test'),
});
const plain = await run(agent, 'Weather in Oslo?');
const streamed = await run(agent, 'Weather in Oslo?', { stream: true });
let deltas = '';
for await (const event of streamed) {
  if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') {
    deltas += event.data.delta;
  }
}
await streamed.completed;
console.log(JSON.stringify({ plain: plain.finalOutput, streamed: streamed.finalOutput, deltas, cities }));
