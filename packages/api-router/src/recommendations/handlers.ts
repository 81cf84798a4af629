import type { ServiceContext } from "../init.ts";
import type {
  FoldInInput,
  ForUserInput,
  HistoryInput,
  SearchItemsInput,
  SearchUsersInput,
  SimilarInput,
} from "./schemas.ts";

type Ctx = ServiceContext<"recommendations">;

/** The servable versions (the serving one first): the panel's version choices. */
export const versionsHandler = async ({ ctx }: { ctx: Ctx }) => ({
  versions: (await ctx.recommendations.versions()).map(({ ref: _ref, ...version }) => version),
});

export const searchUsersHandler = async ({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: SearchUsersInput;
}) => ({ users: await ctx.recommendations.searchUsers(input.prefix, input.limit) });

export const searchItemsHandler = ({ ctx, input }: { ctx: Ctx; input: SearchItemsInput }) => ({
  items: ctx.recommendations.searchItems(input.query, input.limit),
});

/** A user nobody knows is not an error: an empty history, with a message saying so. */
export const historyHandler = ({ ctx, input }: { ctx: Ctx; input: HistoryInput }) => {
  const history = ctx.recommendations.history(input.userId, input.limit);
  return {
    userId: input.userId,
    ...history,
    message:
      history.total === 0
        ? `user ${JSON.stringify(input.userId)} has no history: recommendations are for a cold user`
        : null,
  };
};

export const forUserHandler = async ({ ctx, input }: { ctx: Ctx; input: ForUserInput }) => ({
  userId: input.userId,
  versions: await ctx.recommendations.recommend(input.userId, input.k),
});

export const similarHandler = ({ ctx, input }: { ctx: Ctx; input: SimilarInput }) =>
  ctx.recommendations.similar(input.itemId, input.k, input.version);

export const foldInHandler = ({ ctx, input }: { ctx: Ctx; input: FoldInInput }) =>
  ctx.recommendations.foldIn(input.itemIds, input.k, input.version);
