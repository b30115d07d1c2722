"""Sending results: one embed, or pages with a Pager; always with allowed_mentions none."""

from __future__ import annotations

import discord

from bot.views import Pager

NO_PINGS = discord.AllowedMentions.none()


async def send_pages(interaction: discord.Interaction, pages: list[discord.Embed], *, ephemeral: bool = False) -> None:
    first = pages[0]
    if len(pages) == 1:
        if interaction.response.is_done():
            await interaction.followup.send(embed=first, ephemeral=ephemeral, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(embed=first, ephemeral=ephemeral, allowed_mentions=NO_PINGS)
        return
    view = Pager(pages, interaction.user.id)
    if interaction.response.is_done():
        view.message = await interaction.followup.send(
            embed=first, view=view, ephemeral=ephemeral, allowed_mentions=NO_PINGS, wait=True
        )
    else:
        await interaction.response.send_message(embed=first, view=view, ephemeral=ephemeral, allowed_mentions=NO_PINGS)
        view.message = await interaction.original_response()


async def reply(interaction: discord.Interaction, embed: discord.Embed, *, ephemeral: bool = False) -> None:
    await send_pages(interaction, [embed], ephemeral=ephemeral)
